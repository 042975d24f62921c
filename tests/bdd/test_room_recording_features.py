from pytest_bdd import scenarios

from tests.fakes.gcs import gcs_server  # noqa: F401 - fixture
from tests.fakes.s3 import s3_server  # noqa: F401 - fixture
from tests.steps.livekit_steps import *  # noqa: F401,F403
from tests.steps.recording_steps import *  # noqa: F401,F403
from tests.steps.room_recording_steps import *  # noqa: F401,F403

scenarios("features/livekit_recording.feature")
