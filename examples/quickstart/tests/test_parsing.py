"""One real failure: bulkhead reports it exactly as pytest would."""


def parse_version(text: str) -> tuple:
    return tuple(int(part) for part in text.split("."))


def test_parse_simple_version():
    assert parse_version("1.2.3") == (1, 2, 3)


def test_parse_version_with_suffix():
    # A bug on purpose: "rc1" is not an int.
    assert parse_version("2.0.0rc1") == (2, 0, 0)
