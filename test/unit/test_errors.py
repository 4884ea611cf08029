"""errors: the wire form round-trips and foreign data never raises oddly."""

import pytest

from ganeti import errors


def test_encode_decode_keeps_class_and_kind():
    err = errors.OpPrereqError("Instance 'x' not found", errors.ECODE_NOENT)
    data = errors.encode(err)
    assert data == ["OpPrereqError", ["Instance 'x' not found", "unknown_entity"]]
    rebuilt = errors.decode(data)
    assert isinstance(rebuilt, errors.OpPrereqError)
    assert rebuilt.args == err.args
    assert errors.get_error_code(rebuilt) == errors.ECODE_NOENT


def test_subclass_round_trip():
    rebuilt = errors.decode(errors.encode(errors.JobQueueDrainError("drained")))
    assert isinstance(rebuilt, errors.JobQueueDrainError)
    assert isinstance(rebuilt, errors.JobQueueError)


def test_foreign_exception_travels_as_op_exec_error():
    data = errors.encode(KeyError("k"))
    assert data[0] == "OpExecError"
    assert "KeyError" in data[1][0]
    assert isinstance(errors.decode(data), errors.OpExecError)


@pytest.mark.parametrize("garbage", [None, 5, "x", ["NoSuchError", []], ["OpExecError"],
                                     ["OpExecError", "notalist"], {"a": 1}])
def test_decode_garbage_gives_programmer_error(garbage):
    err = errors.decode(garbage)
    assert isinstance(err, errors.ProgrammerError)
    assert "Can't decode" in str(err)


def test_maybe_raise():
    errors.maybe_raise(["not an error", 1])
    errors.maybe_raise({"result": 1})
    with pytest.raises(errors.OpExecError, match="boom"):
        errors.maybe_raise(["OpExecError", ["boom"]])


def test_every_kind_has_an_http_status():
    assert set(errors.ECODE_HTTP_STATUS) == set(errors.ECODE_ALL)


def test_config_verify_error_lists_problems():
    err = errors.ConfigVerifyError("Config is inconsistent", ["a", "b"])
    assert err.problems == ["a", "b"]
    assert "a" in str(err) and "b" in str(err)
    assert errors.decode(errors.encode(err)).args == err.args
