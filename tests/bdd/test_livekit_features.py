from pytest_bdd import scenarios

from tests.steps.health_steps import *  # noqa: F401,F403
from tests.steps.livekit_steps import *  # noqa: F401,F403
from tests.steps.sip_inbound_steps import *  # noqa: F401,F403
from tests.steps.sip_steps import *  # noqa: F401,F403

scenarios(
    "features/livekit_token.feature",
    "features/livekit_rooms.feature",
    "features/sip_call.feature",
    "features/sip_transfer.feature",
    "features/sip_hooks.feature",
    "features/sip_inbound.feature",
    "features/livekit_webhook.feature",
)
