"""A token bucket per platform account and operation, kept in Redis so every worker shares it.

WeChat limits how fast a third-party platform may call each API (and says 45009 once a daily
limit is reached). A campaign takes one token before it starts an app's platform step; an empty
bucket ends the wave until tokens have dripped back. The bucket is one Redis hash updated by a
Lua script, atomically, so two workers never spend the same token.
"""

import time

import django_rq
from django.conf import settings

# KEYS[1] the bucket; ARGV: capacity, tokens per second, now (s), tokens wanted.
# Returns 1 when taken, 0 when not enough tokens are left.
_TAKE = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local wanted = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil then tokens = capacity; at = now end
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local taken = 0
if tokens >= wanted then tokens = tokens - wanted; taken = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 60)
return taken
"""


def per_minute(operation: str) -> int:
    return settings.SLUICE_CAMPAIGN_CALLS_PER_MINUTE.get(
        operation, settings.SLUICE_CAMPAIGN_CALLS_PER_MINUTE["*"]
    )


def _key(account_id: int, operation: str) -> str:
    return f"sluice:campaign-bucket:{account_id}:{operation}"


def take(account_id: int, operation: str, *, now: float | None = None) -> bool:
    """One token of `operation` for the account, or False when its bucket is empty."""
    rate = per_minute(operation)
    connection = django_rq.get_connection("default")
    script = connection.register_script(_TAKE)
    moment = time.time() if now is None else now
    return bool(script(keys=[_key(account_id, operation)], args=[rate, rate / 60.0, moment, 1]))


def reset(account_id: int, operation: str) -> None:
    django_rq.get_connection("default").delete(_key(account_id, operation))
