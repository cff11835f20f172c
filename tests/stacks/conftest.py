import pytest

from dangan.stacks import services


@pytest.fixture
def room(archivist):
    return services.create_room(
        actor=archivist, code="K1", name="一号库房", columns=2, sections=2, layers=3
    )
