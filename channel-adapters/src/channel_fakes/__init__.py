"""In-process fakes of the channels' HTTP APIs, written from their public documentation.

Each fake is a class holding its state (for tests to inspect) with a FastAPI `app`. They model
the requests the reference adapters make and the validation those requests meet; README.md
lists what they leave out.
"""

from channel_fakes.mercadolibre import FakeMercadoLibre
from channel_fakes.meta import FakeMetaCatalog

__all__ = ["FakeMercadoLibre", "FakeMetaCatalog"]
