"""CloudFormation in the emulator: stacks that take time, report each resource and roll back.

``stacks`` replaces moto's synchronous stack operations and ``stacksets`` its StackSets (operations
over time, stacks in other accounts); ``resources`` says how each resource type is
updated (extensions of other services register their types there); ``template`` holds the checks
CloudFormation makes on a request and moto does not.
"""

from __future__ import annotations

from mlops_orchestrator.local.patching import service_installers

#: the modules that change moto for this service, installed in this order
install, uninstall = service_installers(__name__, ("stacks", "stacksets"))
