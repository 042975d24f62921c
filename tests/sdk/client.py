"""Running a scenario with the official Python SDK's client against a live server."""

from __future__ import annotations

import asyncio

from sayna_client import SaynaClient


def run_with_client(url: str, api_key: str, scenario):
    """`await scenario(client)` with a REST-only client, closed afterwards."""

    async def main():
        client = SaynaClient(url, without_audio=True, api_key=api_key)
        try:
            return await scenario(client)
        finally:
            await client._http_client.close()  # REST-only use never closes the SDK's aiohttp session itself

    return asyncio.run(main())
