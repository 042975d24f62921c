"""Two tenants race for one room through two server processes: the database lets exactly one win.

Each worker process builds its own app (as a gunicorn worker does) on the shared database and the one
fake LiveKit; 50 token requests, both tenants' in both workers, wait on one cross-process barrier and
then claim the room at once."""

from __future__ import annotations

import json
import multiprocessing
import threading
from collections import Counter

import pytest

from tests.fakes.livekit import TEST_API_KEY, TEST_API_SECRET

TENANTS = {"acme": "acme-secret-1", "globex": "globex-secret-2"}
WORKERS, CLAIMS_PER_WORKER = 2, 25


def _worker(env: dict, tenants: list[str], barrier, results) -> None:
    from app import create_app
    from app.settings import Settings

    app = create_app(Settings.from_env(env))
    client = app.test_client()
    answers = []

    def claim(tenant: str) -> None:
        barrier.wait(timeout=60)
        response = client.post(
            "/livekit/token",
            headers={"Authorization": f"Bearer {TENANTS[tenant]}"},
            json={"room_name": "contested", "participant_name": tenant, "participant_identity": f"{tenant}-user"},
        )
        answers.append((tenant, response.status_code, (response.get_json() or {}).get("code")))

    threads = [threading.Thread(target=claim, args=(tenant,)) for tenant in tenants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    app.extensions["services"].close()
    results.put(answers)


@pytest.mark.parametrize("room_exists", [True, False], ids=["unowned room", "missing room"])
def test_fifty_concurrent_claims_by_two_tenants_in_two_workers_have_one_winner(
    base_env, livekit, database, room_exists
):
    if room_exists:
        livekit.add_room("contested")
    env = {
        **base_env,
        "LIVEKIT_URL": livekit.url,
        "LIVEKIT_API_KEY": TEST_API_KEY,
        "LIVEKIT_API_SECRET": TEST_API_SECRET,
        "AUTH_REQUIRED": "true",
        "AUTH_API_SECRETS_JSON": json.dumps([{"id": t, "secret": s} for t, s in TENANTS.items()]),
    }
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(WORKERS * CLAIMS_PER_WORKER), context.Queue()
    # both tenants in each worker, 25 claims each in all
    plans = [[list(TENANTS)[(w + i) % 2] for i in range(CLAIMS_PER_WORKER)] for w in range(WORKERS)]
    workers = [context.Process(target=_worker, args=(env, plan, barrier, results)) for plan in plans]
    for worker in workers:
        worker.start()
    answers = [answer for _ in workers for answer in results.get(timeout=180)]
    for worker in workers:
        worker.join(timeout=30)

    assert len(answers) == WORKERS * CLAIMS_PER_WORKER
    winners = {tenant for tenant, status, _ in answers if status == 200}
    assert len(winners) == 1, Counter(answers)
    winner = winners.pop()
    assert Counter(answers) == Counter({(winner, 200, None): 25, (_other(winner), 403, "room_access_denied"): 25})
    assert livekit.metadata_of("contested") == {"auth_id": winner}
    from app.services.livekit.ownership import RoomOwnership

    assert RoomOwnership(database).owner("contested") == winner


def _other(tenant: str) -> str:
    return next(t for t in TENANTS if t != tenant)
