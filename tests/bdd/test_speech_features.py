from pytest_bdd import scenarios

from tests.steps.provider_steps import *  # noqa: F401,F403
from tests.steps.speak_steps import *  # noqa: F401,F403
from tests.steps.voices_steps import *  # noqa: F401,F403

scenarios("features/speak.feature", "features/voices.feature")
