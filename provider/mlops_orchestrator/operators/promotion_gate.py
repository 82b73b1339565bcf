"""The manual gate before a stage of a multi-account promotion: a person approves in the Airflow UI."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.standard.operators.hitl import ApprovalOperator

from mlops_orchestrator.operators.hitl_answer import HitlAnswer, hours, with_comment_param

if TYPE_CHECKING:
    from airflow.sdk import Context


class PromotionGateOperator(ApprovalOperator):
    """
    Approve or reject deploying to the next stage (Airflow's human-in-the-loop approval, in the
    Required Actions page), with an optional comment.

    MWO's gate was a manual approval action in CodePipeline. Here a rejection stops the
    promotion: every later task of the run is skipped (this stage and the ones after it), and the
    decision stays with the task: its log and XCom ``decision`` say who decided, when and why
    (``{"status": "approved"|"rejected", "stage", "by", "comment", "description"}``). With
    ``response_timeout`` an unanswered gate rejects, so a forgotten promotion never holds the
    pipeline's next runs back (DAGs run one at a time).
    """

    def __init__(self, *, stage: str, response_timeout: timedelta | None = None, **kwargs: Any):
        params = with_comment_param(kwargs, "why (kept with the run)")
        super().__init__(
            params=params,
            response_timeout=response_timeout,
            defaults=[self.REJECT] if response_timeout else None,
            # a rejection stops the whole promotion, not only this stage's first task
            ignore_downstream_trigger_rules=True,
            **kwargs,
        )
        self.stage = stage

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        answer = HitlAnswer.of(event)
        approved = answer.chosen == self.APPROVE
        if answer.timed_out:
            description = (
                f"Promotion to {self.stage} rejected: nobody answered within {hours(self.response_timeout):g} hour(s)"
            )
        else:
            verb = "approved" if approved else "rejected"
            description = f"Promotion to {self.stage} {verb} by {answer.by}" + (f": {answer.comment}" if answer.comment else "")
        decision = {
            "status": "approved" if approved else "rejected",
            "stage": self.stage,
            "by": answer.by,
            "comment": answer.comment or None,
            "description": description,
        }
        context["ti"].xcom_push(key="decision", value=decision)
        if approved:
            self.log.info("%s.", description)
        else:
            self.log.warning("%s. The promotion stops here: the remaining stages are skipped.", description)
        return super().execute_complete(context, event)
