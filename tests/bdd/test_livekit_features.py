from pytest_bdd import scenarios

from tests.steps.livekit_steps import *  # noqa: F401,F403

scenarios("features/livekit_token.feature", "features/livekit_rooms.feature")
