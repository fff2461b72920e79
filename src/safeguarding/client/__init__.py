"""The on-device SDK for end-to-end-encrypted mode (a Python reference of what an app embeds).

>>> from safeguarding.client import ClientSession, DeviceKeys        # doctest: +SKIP
>>> keys = DeviceKeys.generate("k1", "phone")                         # doctest: +SKIP
>>> directory.register(keys.identity)                                 # doctest: +SKIP
>>> me = ClientSession(keys, directory, load_device_model(path))      # doctest: +SKIP
>>> packages = me.open_conversation("c1", ["k1", "a1"])               # doctest: +SKIP
>>> out = me.send("c1", "hi")          # out.envelope goes to the server   # doctest: +SKIP
>>> got = me.receive(stamped)          # got.notice / got.alert when the detector flags   # doctest: +SKIP

The server side is :mod:`safeguarding.e2ee`; the scheme and its limits are in ``docs/e2ee.md``.
"""

from safeguarding.client.keys import DeviceKeys
from safeguarding.client.model import (
    MAX_DEVICE_MODEL_BYTES,
    DeviceModelInfo,
    export_device_model,
    load_device_model,
)
from safeguarding.client.notices import NoticeAction, NoticeLevel, SafetyNotice
from safeguarding.client.session import (
    ClientSession,
    ConversationKey,
    Delivery,
    LocalMessage,
    Outgoing,
)

__all__ = [
    "MAX_DEVICE_MODEL_BYTES",
    "ClientSession",
    "ConversationKey",
    "Delivery",
    "DeviceKeys",
    "DeviceModelInfo",
    "LocalMessage",
    "NoticeAction",
    "NoticeLevel",
    "Outgoing",
    "SafetyNotice",
    "export_device_model",
    "load_device_model",
]
