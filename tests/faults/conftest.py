import pytest

from tests.servers import RedisServer


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test's own, killed at the end whatever happens."""
    server = RedisServer(data_dir=tmp_path)
    with server:
        yield server
