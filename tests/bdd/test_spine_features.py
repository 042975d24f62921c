from pytest_bdd import scenarios

from tests.steps.auth_steps import *  # noqa: F401,F403
from tests.steps.health_steps import *  # noqa: F401,F403

scenarios("features/health.feature", "features/auth.feature")
