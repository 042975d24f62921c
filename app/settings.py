"""Every setting the server reads, parsed once from the environment.

Variable names follow the upstream Sayna server so that an existing deployment's environment works
unchanged; ours (DATABASE_URL, CACHE_MAX_BYTES, provider base URLs, ...) follow the same style.
The rest of the code receives a `Settings` object and never reads `os.environ`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from dotenv import dotenv_values
from environs import Env, EnvError, EnvValidationError
from marshmallow import EXCLUDE, Schema, ValidationError, fields
from marshmallow.validate import Range


class SettingsError(ValueError):
    """An invalid configuration; the message names the variable."""


@dataclass(frozen=True)
class ApiSecret:
    id: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class AuthSettings:
    required: bool = False
    api_secrets: tuple[ApiSecret, ...] = ()
    service_url: str | None = None
    signing_key_path: Path | None = None  # a PEM private key, loaded by the auth service when it starts
    timeout_seconds: float = 5.0

    @property
    def delegated(self) -> bool:
        return bool(self.service_url and self.signing_key_path)


@dataclass(frozen=True)
class LiveKitSettings:
    url: str = "ws://localhost:7880"
    public_url: str = "http://localhost:7880"
    api_key: str | None = None
    api_secret: str | None = field(default=None, repr=False)
    request_timeout_seconds: float = 10.0
    upstream_token_grants: bool = False  # participant tokens also get roomList, roomCreate, roomRecord

    @property
    def configured(self) -> bool:
        return bool(self.api_key and self.api_secret)

    @property
    def http_url(self) -> str:
        """The server API base: LiveKit's ws(s):// URL spoken as http(s)://."""
        url = self.url.rstrip("/")
        if url.startswith("wss://"):
            return "https://" + url[len("wss://") :]
        if url.startswith("ws://"):
            return "http://" + url[len("ws://") :]
        return url


@dataclass(frozen=True)
class SipHookConfig:
    host: str
    url: str
    secret: str | None = field(default=None, repr=False)
    auth_id: str = ""


@dataclass(frozen=True)
class SipSettings:
    room_prefix: str | None = None
    allowed_addresses: tuple[str, ...] = ()
    hooks: tuple[SipHookConfig, ...] = ()
    hook_secret: str | None = field(default=None, repr=False)
    outbound_address: str | None = None
    outbound_auth_username: str | None = None
    outbound_auth_password: str | None = field(default=None, repr=False)
    outbound_trunk_id: str | None = None
    hooks_allow_private: bool = False  # runtime hook URLs may point at private/loopback/link-local hosts

    @property
    def configured(self) -> bool:
        return self.room_prefix is not None


@dataclass(frozen=True)
class RecordingSettings:
    backend: str | None = "file"  # "s3", "gcs", "file", or None (not configured)
    prefix: str = ""
    path: Path | None = None  # local directory of the "file" backend
    s3_bucket: str | None = None
    s3_region: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = field(default=None, repr=False)
    s3_endpoint: str | None = None
    s3_force_path_style: bool = False
    gcs_bucket: str | None = None
    gcs_credentials_json: str | None = field(default=None, repr=False)  # the service-account key, as JSON text
    gcs_endpoint: str | None = None  # a GCS-compatible JSON API (emulator); None means Google's
    gcs_anonymous: bool = False  # STORAGE_EMULATOR_HOST: emulators take unauthenticated requests


@dataclass(frozen=True)
class TTSSettings:
    default_provider: str = "local"
    local_voice: str = "en-us"
    deepgram_api_key: str | None = field(default=None, repr=False)
    deepgram_base_url: str = "https://api.deepgram.com"
    elevenlabs_api_key: str | None = field(default=None, repr=False)
    elevenlabs_base_url: str = "https://api.elevenlabs.io"
    # GOOGLE_APPLICATION_CREDENTIALS: a file path (not a secret; read when used, so a mounted secret can be
    # rotated) or the JSON itself (a secret)
    google_credentials_path: str | None = None
    google_credentials_json: str | None = field(default=None, repr=False)
    google_base_url: str = "https://texttospeech.googleapis.com"
    google_token_uri: str = "https://oauth2.googleapis.com/token"  # for credentials a request brings
    azure_speech_subscription_key: str | None = field(default=None, repr=False)
    azure_speech_region: str = "eastus"
    azure_speech_base_url: str = "https://{region}.tts.speech.microsoft.com"  # {region} is filled in per call
    cartesia_api_key: str | None = field(default=None, repr=False)
    cartesia_base_url: str = "https://api.cartesia.ai"
    openai_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str = "https://api.openai.com/v1"
    connect_timeout_seconds: float = 5.0
    request_timeout_seconds: float = 30.0  # one synthesis, every attempt and the body included
    max_retries: int = 2
    voices_ttl_seconds: float = 300.0
    voices_stale_seconds: float = 3600.0


@dataclass(frozen=True)
class CacheSettings:
    enabled: bool = True
    path: Path = Path("data/cache")  # the blobs (file backend), or the bounded local copy of S3's (s3 backend)
    ttl_seconds: int = 2_592_000  # 30 days, as upstream
    max_bytes: int = 1 << 30  # the whole cache (every host's entries with s3), least recently used evicted
    backend: str = "file"  # "file" (blobs under `path`) or "s3" (blobs in a bucket shared by every host)
    s3_bucket: str | None = None
    s3_prefix: str = "cache"  # never empty: prune and clear touch only the objects under it
    s3_region: str = "us-east-1"
    s3_endpoint: str | None = None  # an S3-compatible store (MinIO, Ceph, R2...); None means AWS
    s3_access_key: str | None = None  # None with the secret: boto3's own credential chain (instance role...)
    s3_secret_key: str | None = field(default=None, repr=False)
    s3_force_path_style: bool = False
    local_max_bytes: int = 1 << 30  # s3: the local read-through copy under `path`, least recently used evicted
    orphan_grace_seconds: int = 300  # prune leaves a blob without a row alone this long (its row may be coming)

    @property
    def shared(self) -> bool:
        """Whether the blobs are shared by several hosts (then `path` is only this host's copy)."""
        return self.backend == "s3"


@dataclass(frozen=True)
class MetricsSettings:
    enabled: bool = True
    token: str | None = field(default=None, repr=False)  # then GET /metrics needs it as a bearer token


@dataclass(frozen=True)
class ServerSettings:
    """gunicorn's own settings (read by gunicorn.conf.py), validated with the rest."""

    workers: int = 2
    threads: int = 4
    timeout_seconds: int = 120


@dataclass(frozen=True)
class Settings:
    host: str = "0.0.0.0"
    port: int = 3001
    data_dir: Path = Path("data")
    database_url: str = "sqlite:///data/sayna.db"
    log_level: str = "INFO"
    auto_migrate: bool = True
    trusted_proxies: int = 0  # proxies in front (nginx: 1) whose X-Forwarded-For/-Proto are believed
    # nginx's `internal` location aliasing CACHE_PATH: cache hits are answered with X-Accel-Redirect there
    cache_accel_location: str | None = None
    auth: AuthSettings = AuthSettings()
    livekit: LiveKitSettings = LiveKitSettings()
    sip: SipSettings = SipSettings()
    recording: RecordingSettings = RecordingSettings()
    tts: TTSSettings = TTSSettings()
    cache: CacheSettings = CacheSettings()
    metrics: MetricsSettings = MetricsSettings()
    server: ServerSettings = ServerSettings()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, dotenv: str | Path | None = ".env") -> Settings:
        """Read the settings from `environ` (default: the process environment plus an optional
        `.env` file, real variables winning). Raises SettingsError naming the bad variable."""
        if environ is None:
            values = {
                k: v
                for k, v in (dotenv_values(dotenv) if dotenv and Path(dotenv).is_file() else {}).items()
                if v is not None
            }
            values.update(os.environ)
        else:
            values = dict(environ)
        try:
            return _read(_MappingEnv(values))
        except EnvValidationError as exc:
            raise SettingsError(_one_line(exc)) from None
        except EnvError as exc:
            raise SettingsError(str(exc)) from None


def _one_line(exc: EnvValidationError) -> str:
    """`PORT: Must be greater than ...` from environs' `Environment variable "PORT" invalid: ['Must be ...']`."""
    named = re.match(r'Environment variable "([^"]+)" invalid', str(exc))
    messages = exc.error_messages if isinstance(exc.error_messages, list) else [exc.error_messages]
    return f"{named.group(1) if named else 'configuration'}: {' '.join(str(m) for m in messages)}"


class _MappingEnv(Env):
    """environs' parser over an explicit mapping, so tests build settings without touching os.environ."""

    def __init__(self, values: Mapping[str, str]):
        super().__init__()
        self._values_source = {k: v for k, v in values.items()}

    def _get_value(self, env_key, default):  # noqa: D401 - environs hook
        value = self._values_source.get(env_key, default)
        if isinstance(value, str) and value.strip() == "":
            return default  # an empty variable means "unset", as upstream treats it
        return value

    def present(self, *names: str) -> bool:
        return any(self._values_source.get(n, "").strip() for n in names)

    def present_prefix(self, prefix: str, *, ignoring: tuple[str, ...] = ()) -> bool:
        return any(k.startswith(prefix) and k not in ignoring and v.strip() for k, v in self._values_source.items())


def _read(env: _MappingEnv) -> Settings:
    data_dir = env.path("DATA_DIR", Path("data"))
    settings = Settings(
        host=env.str("HOST", "0.0.0.0"),
        port=_port(env),
        data_dir=data_dir,
        database_url=env.str("DATABASE_URL", f"sqlite:///{data_dir / 'sayna.db'}"),
        log_level=_log_level(env),
        auto_migrate=env.bool("AUTO_MIGRATE", True),
        trusted_proxies=_non_negative_int(env, "TRUSTED_PROXIES", 0),
        cache_accel_location=_accel_location(env),
        auth=_auth(env),
        livekit=LiveKitSettings(
            url=env.str("LIVEKIT_URL", "ws://localhost:7880"),
            public_url=env.str("LIVEKIT_PUBLIC_URL", "http://localhost:7880"),
            api_key=env.str("LIVEKIT_API_KEY", None),
            api_secret=env.str("LIVEKIT_API_SECRET", None),
            request_timeout_seconds=env.float("LIVEKIT_TIMEOUT_SECONDS", 10.0),
            upstream_token_grants=env.bool("LIVEKIT_TOKEN_UPSTREAM_GRANTS", False),
        ),
        sip=_sip(env),
        recording=_recording(env, data_dir),
        tts=TTSSettings(
            default_provider=env.str("TTS_DEFAULT_PROVIDER", "local").lower(),
            local_voice=env.str("LOCAL_TTS_VOICE", "en-us"),
            deepgram_api_key=env.str("DEEPGRAM_API_KEY", None),
            deepgram_base_url=env.str("DEEPGRAM_BASE_URL", "https://api.deepgram.com").rstrip("/"),
            elevenlabs_api_key=env.str("ELEVENLABS_API_KEY", None),
            elevenlabs_base_url=env.str("ELEVENLABS_BASE_URL", "https://api.elevenlabs.io").rstrip("/"),
            **_google_credentials(env),
            google_base_url=env.str("GOOGLE_TTS_BASE_URL", "https://texttospeech.googleapis.com").rstrip("/"),
            google_token_uri=env.str("GOOGLE_TOKEN_URI", "https://oauth2.googleapis.com/token"),
            azure_speech_subscription_key=env.str("AZURE_SPEECH_SUBSCRIPTION_KEY", None),
            azure_speech_region=env.str("AZURE_SPEECH_REGION", "eastus").strip(),
            azure_speech_base_url=env.str("AZURE_SPEECH_BASE_URL", "https://{region}.tts.speech.microsoft.com").rstrip(
                "/"
            ),
            cartesia_api_key=env.str("CARTESIA_API_KEY", None),
            cartesia_base_url=env.str("CARTESIA_BASE_URL", "https://api.cartesia.ai").rstrip("/"),
            openai_api_key=env.str("OPENAI_API_KEY", None),
            openai_base_url=env.str("OPENAI_BASE_URL", "https://api.openai.com/v1").rstrip("/"),
            connect_timeout_seconds=_positive(env, "TTS_CONNECT_TIMEOUT_SECONDS", 5.0),
            request_timeout_seconds=_positive(env, "TTS_REQUEST_TIMEOUT_SECONDS", 30.0),
            max_retries=_non_negative_int(env, "TTS_MAX_RETRIES", 2),
            voices_ttl_seconds=env.float("VOICES_CACHE_TTL_SECONDS", 300.0),
            voices_stale_seconds=env.float("VOICES_STALE_SECONDS", 3600.0),
        ),
        cache=_cache(env, data_dir),
        metrics=MetricsSettings(enabled=env.bool("METRICS_ENABLED", True), token=env.str("METRICS_TOKEN", None)),
        server=ServerSettings(
            workers=_bounded_int(env, "WEB_CONCURRENCY", 2, 1, 256),
            threads=_bounded_int(env, "GUNICORN_THREADS", 4, 1, 1024),
            timeout_seconds=_bounded_int(env, "GUNICORN_TIMEOUT", 120, 0, 86_400),
        ),
    )
    return settings


_CACHE_S3_VARIABLES = (
    "CACHE_S3_BUCKET",
    "CACHE_S3_PREFIX",
    "CACHE_S3_REGION",
    "CACHE_S3_ENDPOINT",
    "CACHE_S3_ACCESS_KEY",
    "CACHE_S3_SECRET_KEY",
    "CACHE_S3_FORCE_PATH_STYLE",
    "CACHE_LOCAL_MAX_BYTES",
)


def _cache(env: _MappingEnv, data_dir: Path) -> CacheSettings:
    common = CacheSettings(
        enabled=env.bool("CACHE_ENABLED", True),
        path=env.path("CACHE_PATH", data_dir / "cache"),
        ttl_seconds=_non_negative_int(env, "CACHE_TTL_SECONDS", 2_592_000),
        max_bytes=_non_negative_int(env, "CACHE_MAX_BYTES", 1 << 30),
        orphan_grace_seconds=_non_negative_int(env, "CACHE_ORPHAN_GRACE_SECONDS", 300),
    )
    backend = (env.str("CACHE_BACKEND", None) or "file").strip().lower()
    if backend not in ("file", "s3"):
        raise SettingsError(f"CACHE_BACKEND must be 'file' or 's3', got '{backend}'")
    if backend == "file":
        stray = next((name for name in _CACHE_S3_VARIABLES if env.present(name)), None)
        if stray:  # a half-done switch to S3 would otherwise keep every host on its own disk, silently
            raise SettingsError(f"{stray} is set but CACHE_BACKEND is not s3 (set CACHE_BACKEND=s3, or unset it)")
        return common
    if not env.present("CACHE_S3_BUCKET"):
        raise SettingsError("CACHE_S3_BUCKET is required when CACHE_BACKEND is s3")
    bucket = env.str("CACHE_S3_BUCKET").strip()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{1,254}", bucket):
        raise SettingsError(f"CACHE_S3_BUCKET must be a bucket name (letters, digits, '.', '-', '_'), got '{bucket}'")
    prefix = env.str("CACHE_S3_PREFIX", "cache").strip().strip("/")
    if not re.fullmatch(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*", prefix) or any(
        part in (".", "..") for part in prefix.split("/")
    ):
        raise SettingsError(
            f"CACHE_S3_PREFIX must be a non-empty key prefix such as sayna/cache (letters, digits, '.', '-', '_', "
            f"'/'), got '{prefix}'"
        )
    access_key, secret_key = env.str("CACHE_S3_ACCESS_KEY", None), env.str("CACHE_S3_SECRET_KEY", None)
    if (access_key is None) != (secret_key is None):
        missing = "CACHE_S3_SECRET_KEY" if secret_key is None else "CACHE_S3_ACCESS_KEY"
        raise SettingsError(f"{missing} is required with the other key (or unset both for boto3's credential chain)")
    endpoint = env.str("CACHE_S3_ENDPOINT", None)
    if endpoint is not None:
        endpoint = endpoint.strip().rstrip("/")
        if not re.fullmatch(r"https?://[^\s/?#@]+(/[^\s?#]*)?", endpoint):
            # the value is not echoed: it may hold credentials (user:password@host)
            raise SettingsError("CACHE_S3_ENDPOINT must be an http:// or https:// URL without credentials")
    return replace(
        common,
        backend="s3",
        s3_bucket=bucket,
        s3_prefix=prefix,
        s3_region=env.str("CACHE_S3_REGION", "us-east-1").strip(),
        s3_endpoint=endpoint,
        s3_access_key=access_key.strip() if access_key else None,
        s3_secret_key=secret_key.strip() if secret_key else None,
        s3_force_path_style=env.bool("CACHE_S3_FORCE_PATH_STYLE", False),
        local_max_bytes=env.int("CACHE_LOCAL_MAX_BYTES", 1 << 30, validate=Range(min=1 << 20)),
    )


def _google_credentials(env: _MappingEnv) -> dict[str, str]:
    """Inline JSON is checked now; a file path when it is used (upstream's behaviour, and a rotated
    secret needs no restart)."""
    value = (env.str("GOOGLE_APPLICATION_CREDENTIALS", None) or "").strip()
    if not value.startswith("{"):
        return {"google_credentials_path": value} if value else {}
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"GOOGLE_APPLICATION_CREDENTIALS is not valid JSON: {exc.msg}") from None
    if not isinstance(parsed, dict):
        raise SettingsError("GOOGLE_APPLICATION_CREDENTIALS must be a JSON object or a file path")
    return {"google_credentials_json": value}


def _port(env: _MappingEnv) -> int:
    return env.int("PORT", 3001, validate=Range(min=1, max=65535))


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _accel_location(env: _MappingEnv) -> str | None:
    location = env.str("CACHE_X_ACCEL_LOCATION", None)
    if location is None:
        return None
    location = location.strip()
    if not re.fullmatch(r"/([A-Za-z0-9._~-]+/)+", location) or "/../" in location or "/./" in location:
        raise SettingsError(
            f"CACHE_X_ACCEL_LOCATION must be a path such as /_sayna_cache/ (starting and ending with /), got '{location}'"
        )
    return location


def _log_level(env: _MappingEnv) -> str:
    level = env.str("LOG_LEVEL", "INFO").strip().upper()
    level = "WARNING" if level == "WARN" else level
    if level not in _LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, got '{level}'")
    return level


def _bounded_int(env: _MappingEnv, name: str, default: int, low: int, high: int) -> int:
    value = env.int(name, default)
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _positive(env: _MappingEnv, name: str, default: float) -> float:
    return env.float(name, default, validate=Range(min=0, min_inclusive=False))


def _non_negative_int(env: _MappingEnv, name: str, default: int) -> int:
    return env.int(name, default, validate=Range(min=0))


def _auth(env: _MappingEnv) -> AuthSettings:
    secrets = _api_secrets(env)
    service_url = env.str("AUTH_SERVICE_URL", None)
    key_path = env.path("AUTH_SIGNING_KEY_PATH", None)
    if key_path and not service_url:
        raise SettingsError("AUTH_SERVICE_URL is required when AUTH_SIGNING_KEY_PATH is set")
    if service_url and not key_path:
        raise SettingsError("AUTH_SIGNING_KEY_PATH is required when AUTH_SERVICE_URL is set")
    if key_path and not key_path.is_file():
        raise SettingsError(f"AUTH_SIGNING_KEY_PATH file does not exist: {key_path}")
    auth = AuthSettings(
        required=env.bool("AUTH_REQUIRED", False),
        api_secrets=secrets,
        service_url=service_url,
        signing_key_path=key_path,
        timeout_seconds=_positive(env, "AUTH_TIMEOUT_SECONDS", 5.0),
    )
    if auth.required and not (auth.api_secrets or auth.delegated):
        raise SettingsError(
            "AUTH_REQUIRED=true needs an auth method: set AUTH_API_SECRETS_JSON or AUTH_API_SECRET, "
            "or AUTH_SERVICE_URL with AUTH_SIGNING_KEY_PATH"
        )
    return auth


class _ApiSecretEntry(Schema):
    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True)
    secret = fields.String(required=True)


class _SipHookEntry(Schema):
    class Meta:
        unknown = EXCLUDE

    host = fields.String(required=True)
    url = fields.String(required=True)
    secret = fields.Raw(load_default=None)  # anything but a non-blank string means none
    auth_id = fields.Raw(load_default=None)


def _json_list(env: _MappingEnv, name: str, entry: type[Schema], shape: str) -> list[dict] | None:
    """The JSON list in `name`, each entry checked by the `entry` schema; None when unset."""
    value = env.json(name, None)
    if value is None:
        return None
    try:
        return entry(many=True).load(value)
    except ValidationError:
        raise SettingsError(f"{name} must be a JSON list of {shape}") from None


def _api_secrets(env: _MappingEnv) -> tuple[ApiSecret, ...]:
    entries = _json_list(env, "AUTH_API_SECRETS_JSON", _ApiSecretEntry, '{"id": "...", "secret": "..."}')
    if entries is not None:
        pairs = [(e["id"], e["secret"]) for e in entries]
    elif env.present("AUTH_API_SECRET"):
        pairs = [(env.str("AUTH_API_SECRET_ID", "default"), env.str("AUTH_API_SECRET"))]
    else:
        return ()
    secrets: list[ApiSecret] = []
    seen_ids: dict[str, str] = {}
    seen_secrets: dict[str, str] = {}
    for index, (secret_id, secret) in enumerate(pairs):
        if not secret_id.strip():
            raise SettingsError(f"AUTH_API_SECRETS_JSON: id at index {index} cannot be empty")
        if secret_id != secret_id.strip():
            raise SettingsError(f"AUTH_API_SECRETS_JSON: id at index {index} must not have leading or trailing spaces")
        if secret_id.lower() in seen_ids:
            raise SettingsError(f"AUTH_API_SECRETS_JSON: duplicate id '{secret_id}' (ids are case-insensitive)")
        if not secret.strip():
            raise SettingsError(f"AUTH_API_SECRETS_JSON: secret for id '{secret_id}' cannot be empty")
        if secret in seen_secrets:
            raise SettingsError(
                f"AUTH_API_SECRETS_JSON: secret for id '{secret_id}' duplicates the one of id '{seen_secrets[secret]}'"
            )
        seen_ids[secret_id.lower()] = secret_id
        seen_secrets[secret] = secret_id
        secrets.append(ApiSecret(secret_id, secret))
    return tuple(secrets)


def _sip(env: _MappingEnv) -> SipSettings:
    allow_private = env.bool("SIP_HOOKS_ALLOW_PRIVATE", False)  # does not turn SIP on by itself
    if not env.present_prefix("SIP_", ignoring=("SIP_HOOKS_ALLOW_PRIVATE",)):
        return SipSettings(hooks_allow_private=allow_private)
    room_prefix = env.str("SIP_ROOM_PREFIX", None)
    if not room_prefix:
        raise SettingsError("SIP_ROOM_PREFIX is required when any SIP_* variable is set")
    hooks = _sip_hooks(_json_list(env, "SIP_HOOKS_JSON", _SipHookEntry, "{host, url, secret?, auth_id?}"))
    username = env.str("SIP_OUTBOUND_AUTH_USERNAME", None)
    password = env.str("SIP_OUTBOUND_AUTH_PASSWORD", None)
    if bool(username) != bool(password):
        raise SettingsError("SIP_OUTBOUND_AUTH_USERNAME and SIP_OUTBOUND_AUTH_PASSWORD must be set together")
    return SipSettings(
        room_prefix=room_prefix.strip(),
        allowed_addresses=tuple(a.strip() for a in env.list("SIP_ALLOWED_ADDRESSES", [], subcast=str) if a.strip()),
        hooks=hooks,
        hook_secret=(env.str("SIP_HOOK_SECRET", None) or "").strip() or None,
        outbound_address=(env.str("SIP_OUTBOUND_ADDRESS", None) or "").strip() or None,
        outbound_auth_username=username.strip() if username else None,
        outbound_auth_password=password.strip() if password else None,
        outbound_trunk_id=env.str("SIP_OUTBOUND_TRUNK_ID", None),
        hooks_allow_private=allow_private,
    )


def _sip_hooks(entries: list[dict] | None) -> tuple[SipHookConfig, ...]:
    hooks: list[SipHookConfig] = []
    hosts: set[str] = set()
    for index, entry in enumerate(entries or []):
        host = entry["host"].strip().lower()
        if not host or host in hosts:
            raise SettingsError(f"SIP_HOOKS_JSON: entry {index} has an empty or duplicate host")
        hosts.add(host)
        secret = entry.get("secret")
        hooks.append(
            SipHookConfig(
                host=host,
                url=entry["url"],
                secret=secret.strip() if isinstance(secret, str) and secret.strip() else None,
                auth_id=str(entry.get("auth_id") or "").strip(),
            )
        )
    return tuple(hooks)


_S3_VARIABLES = (
    "RECORDING_S3_BUCKET",
    "RECORDING_S3_REGION",
    "RECORDING_S3_ACCESS_KEY",
    "RECORDING_S3_SECRET_KEY",
    "RECORDING_S3_ENDPOINT",
)
_GCS_VARIABLES = ("RECORDING_GCS_BUCKET", "RECORDING_GCS_CREDENTIALS_PATH", "RECORDING_GCS_CREDENTIALS_JSON")
_BACKEND_ALIASES = {"gcp": "gcs", "google": "gcs"}  # upstream accepts these names too


def _recording(env: _MappingEnv, data_dir: Path) -> RecordingSettings:
    backend = (env.str("RECORDING_BACKEND", None) or "").strip().lower() or None
    if backend is None:
        if env.present(*_S3_VARIABLES) and env.present(*_GCS_VARIABLES):
            raise SettingsError(
                "RECORDING_BACKEND must be 's3' or 'gcs': both RECORDING_S3_* and RECORDING_GCS_* variables are set"
            )
        backend = "s3" if env.present(*_S3_VARIABLES) else "gcs" if env.present(*_GCS_VARIABLES) else "file"
    backend = _BACKEND_ALIASES.get(backend, backend)
    if backend in ("none", "disabled", "off"):
        return RecordingSettings(backend=None)
    prefix = env.str("RECORDING_PREFIX", "").strip().strip("/")
    if backend == "file":
        return RecordingSettings(
            backend="file", prefix=prefix, path=env.path("RECORDING_PATH", data_dir / "recordings")
        )
    if backend == "gcs":
        return _gcs_recording(env, prefix)
    if backend != "s3":
        raise SettingsError(f"RECORDING_BACKEND '{backend}' is not supported (expected 's3', 'gcs', 'file' or 'none')")
    for name in ("RECORDING_S3_BUCKET", "RECORDING_S3_REGION", "RECORDING_S3_ACCESS_KEY", "RECORDING_S3_SECRET_KEY"):
        if not env.present(name):
            raise SettingsError(f"{name} is required when the recording backend is s3")
    return RecordingSettings(
        backend="s3",
        prefix=prefix,
        s3_bucket=env.str("RECORDING_S3_BUCKET"),
        s3_region=env.str("RECORDING_S3_REGION"),
        s3_access_key=env.str("RECORDING_S3_ACCESS_KEY"),
        s3_secret_key=env.str("RECORDING_S3_SECRET_KEY"),
        s3_endpoint=env.str("RECORDING_S3_ENDPOINT", None),
        s3_force_path_style=env.bool("RECORDING_S3_FORCE_PATH_STYLE", False),
    )


def _gcs_recording(env: _MappingEnv, prefix: str) -> RecordingSettings:
    if not env.present("RECORDING_GCS_BUCKET"):
        raise SettingsError("RECORDING_GCS_BUCKET is required when the recording backend is gcs")
    path, inline = env.present("RECORDING_GCS_CREDENTIALS_PATH"), env.present("RECORDING_GCS_CREDENTIALS_JSON")
    if path and inline:
        raise SettingsError("Set only one of RECORDING_GCS_CREDENTIALS_PATH and RECORDING_GCS_CREDENTIALS_JSON")
    if path:
        name = "RECORDING_GCS_CREDENTIALS_PATH"
        try:
            text = Path(env.str(name)).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(
                f"{name} cannot be read: {getattr(exc, 'strerror', None) or type(exc).__name__}"
            ) from None
    elif inline:
        name, text = "RECORDING_GCS_CREDENTIALS_JSON", env.str("RECORDING_GCS_CREDENTIALS_JSON")
    else:
        raise SettingsError(
            "RECORDING_GCS_CREDENTIALS_PATH or RECORDING_GCS_CREDENTIALS_JSON is required when the "
            "recording backend is gcs"
        )
    key = _service_account_key(name, text)
    emulator = env.str("STORAGE_EMULATOR_HOST", None)
    if emulator and "://" not in emulator:  # "localhost:4443", as Go clients and fake-gcs-server write it
        emulator = f"http://{emulator}"
    endpoint = env.str("RECORDING_GCS_ENDPOINT", None) or key.get("gcs_base_url") or emulator
    return RecordingSettings(
        backend="gcs",
        prefix=prefix,
        gcs_bucket=env.str("RECORDING_GCS_BUCKET").strip(),
        gcs_credentials_json=text,
        gcs_endpoint=endpoint.rstrip("/") if endpoint else None,
        gcs_anonymous=bool(emulator) and endpoint == emulator,
    )


def _service_account_key(name: str, text: str) -> dict:
    """The parsed service-account key; its private key is loaded once here so a broken one stops the start."""
    try:
        key = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{name} is not valid JSON: {exc.msg}") from None
    if not isinstance(key, dict) or key.get("type") != "service_account":
        raise SettingsError(f'{name} must be a service-account key (a JSON object with "type": "service_account")')
    for field_name in ("client_email", "private_key", "token_uri"):
        if not isinstance(key.get(field_name), str) or not key[field_name].strip():
            raise SettingsError(f"{name} is missing the service-account field '{field_name}'")
    try:
        serialization.load_pem_private_key(key["private_key"].encode(), password=None)
    except (ValueError, TypeError):
        raise SettingsError(f"{name}: private_key is not a readable PEM private key") from None
    if "gcs_base_url" in key and not isinstance(key["gcs_base_url"], str):
        raise SettingsError(f"{name}: gcs_base_url must be a string")
    return key
