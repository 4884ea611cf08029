"""serializer: stable JSON and signed envelopes."""

import pytest

from ganeti import errors, serializer


def test_dump_is_sorted_and_stable():
    assert serializer.dump({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'
    assert serializer.dump_bytes({"x": "é"}) == serializer.dump({"x": "é"}).encode()
    pretty = serializer.dump({"b": 1, "a": 2}, pretty=True)
    assert pretty.endswith("\n") and pretty.index('"a"') < pretty.index('"b"')


def test_load_round_trip_and_error():
    data = {"nodes": {"u1": {"name": "n1", "offline": False}}, "n": 3.5}
    assert serializer.load(serializer.dump(data)) == data
    assert serializer.load(serializer.dump_bytes(data)) == data
    with pytest.raises(ValueError, match="Invalid JSON"):
        serializer.load("{bad")


def test_signed_round_trip():
    text = serializer.dump_signed({"q": 1}, b"key", salt="123")
    assert serializer.load_signed(text, b"key") == ({"q": 1}, "123")


@pytest.mark.parametrize("mutate", [
    lambda env: env.update(hmac="0" * 40),
    lambda env: env.update(msg='{"q":2}'),
    lambda env: env.update(salt="124"),
    lambda env: env.pop("hmac"),
])
def test_tampered_envelope_is_refused(mutate):
    env = serializer.load(serializer.dump_signed({"q": 1}, b"key", salt="123"))
    mutate(env)
    with pytest.raises(errors.SignatureError):
        serializer.load_signed(serializer.dump(env), b"key")


def test_wrong_key_and_garbage_are_refused():
    text = serializer.dump_signed({"q": 1}, b"key")
    with pytest.raises(errors.SignatureError, match="Invalid signature"):
        serializer.load_signed(text, b"other")
    with pytest.raises(errors.SignatureError, match="not valid JSON"):
        serializer.load_signed("plj0garbage", b"key")
    with pytest.raises(errors.SignatureError, match="JSON object"):
        serializer.load_signed("[1]", b"key")
