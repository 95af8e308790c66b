"""Consumers of the event stream: Redis consumer groups with takeover and catch-up from the log.

A third party's consumer is a handler and a :class:`ConsumerGroup` (see ``docs/consumers.md``)::

    group = ConsumerGroup(redis.Redis(), "analytics:events", "my-app", handle, dedupe=True)
    group.run(threading.Event())
"""

from analytics_pipeline.consumers.catchup import Gap, RetryLater
from analytics_pipeline.consumers.dedupe import Dedupe, MemoryDedupe, RedisDedupe
from analytics_pipeline.consumers.group import ConsumerGroup, Handler, default_consumer_name
from analytics_pipeline.consumers.message import StreamMessage

__all__ = [
    "ConsumerGroup",
    "Dedupe",
    "Gap",
    "Handler",
    "MemoryDedupe",
    "RedisDedupe",
    "RetryLater",
    "StreamMessage",
    "default_consumer_name",
]
