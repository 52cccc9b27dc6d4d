from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NullValue(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NULL_VALUE: _ClassVar[NullValue]
NULL_VALUE: NullValue

class TensorProto(_message.Message):
    __slots__ = ("buffer", "dtype", "shape", "framework")
    BUFFER_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    FRAMEWORK_FIELD_NUMBER: _ClassVar[int]
    buffer: bytes
    dtype: str
    shape: _containers.RepeatedScalarFieldContainer[int]
    framework: str
    def __init__(self, buffer: _Optional[bytes] = ..., dtype: _Optional[str] = ..., shape: _Optional[_Iterable[int]] = ..., framework: _Optional[str] = ...) -> None: ...

class ValueProto(_message.Message):
    __slots__ = ("null", "bool_value", "int_value", "float_value", "str_value", "bytes_value", "tensor", "doc", "doc_list", "list", "dict", "big_int_value")
    NULL_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    FLOAT_VALUE_FIELD_NUMBER: _ClassVar[int]
    STR_VALUE_FIELD_NUMBER: _ClassVar[int]
    BYTES_VALUE_FIELD_NUMBER: _ClassVar[int]
    TENSOR_FIELD_NUMBER: _ClassVar[int]
    DOC_FIELD_NUMBER: _ClassVar[int]
    DOC_LIST_FIELD_NUMBER: _ClassVar[int]
    LIST_FIELD_NUMBER: _ClassVar[int]
    DICT_FIELD_NUMBER: _ClassVar[int]
    BIG_INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    null: NullValue
    bool_value: bool
    int_value: int
    float_value: float
    str_value: str
    bytes_value: bytes
    tensor: TensorProto
    doc: DocProto
    doc_list: DocListProto
    list: ListProto
    dict: DictProto
    big_int_value: str
    def __init__(self, null: _Optional[_Union[NullValue, str]] = ..., bool_value: _Optional[bool] = ..., int_value: _Optional[int] = ..., float_value: _Optional[float] = ..., str_value: _Optional[str] = ..., bytes_value: _Optional[bytes] = ..., tensor: _Optional[_Union[TensorProto, _Mapping]] = ..., doc: _Optional[_Union[DocProto, _Mapping]] = ..., doc_list: _Optional[_Union[DocListProto, _Mapping]] = ..., list: _Optional[_Union[ListProto, _Mapping]] = ..., dict: _Optional[_Union[DictProto, _Mapping]] = ..., big_int_value: _Optional[str] = ...) -> None: ...

class ListProto(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedCompositeFieldContainer[ValueProto]
    def __init__(self, values: _Optional[_Iterable[_Union[ValueProto, _Mapping]]] = ...) -> None: ...

class DictProto(_message.Message):
    __slots__ = ("keys", "values")
    KEYS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[ValueProto]
    values: _containers.RepeatedCompositeFieldContainer[ValueProto]
    def __init__(self, keys: _Optional[_Iterable[_Union[ValueProto, _Mapping]]] = ..., values: _Optional[_Iterable[_Union[ValueProto, _Mapping]]] = ...) -> None: ...

class DocProto(_message.Message):
    __slots__ = ("fields", "doc_type", "schema_version")
    class FieldsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ValueProto
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ValueProto, _Mapping]] = ...) -> None: ...
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    DOC_TYPE_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    fields: _containers.MessageMap[str, ValueProto]
    doc_type: str
    schema_version: int
    def __init__(self, fields: _Optional[_Mapping[str, ValueProto]] = ..., doc_type: _Optional[str] = ..., schema_version: _Optional[int] = ...) -> None: ...

class DocListProto(_message.Message):
    __slots__ = ("docs", "doc_type", "schema_version")
    DOCS_FIELD_NUMBER: _ClassVar[int]
    DOC_TYPE_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    docs: _containers.RepeatedCompositeFieldContainer[DocProto]
    doc_type: str
    schema_version: int
    def __init__(self, docs: _Optional[_Iterable[_Union[DocProto, _Mapping]]] = ..., doc_type: _Optional[str] = ..., schema_version: _Optional[int] = ...) -> None: ...

class TensorColumnProto(_message.Message):
    __slots__ = ("data", "present")
    DATA_FIELD_NUMBER: _ClassVar[int]
    PRESENT_FIELD_NUMBER: _ClassVar[int]
    data: TensorProto
    present: bytes
    def __init__(self, data: _Optional[_Union[TensorProto, _Mapping]] = ..., present: _Optional[bytes] = ...) -> None: ...

class DocVecListColumnProto(_message.Message):
    __slots__ = ("vecs", "present")
    VECS_FIELD_NUMBER: _ClassVar[int]
    PRESENT_FIELD_NUMBER: _ClassVar[int]
    vecs: _containers.RepeatedCompositeFieldContainer[DocVecProto]
    present: bytes
    def __init__(self, vecs: _Optional[_Iterable[_Union[DocVecProto, _Mapping]]] = ..., present: _Optional[bytes] = ...) -> None: ...

class StringColumnProto(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, values: _Optional[_Iterable[str]] = ...) -> None: ...

class IntColumnProto(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, values: _Optional[_Iterable[int]] = ...) -> None: ...

class FloatColumnProto(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class BytesColumnProto(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, values: _Optional[_Iterable[bytes]] = ...) -> None: ...

class ValueColumnProto(_message.Message):
    __slots__ = ("strings", "ints", "floats", "bytes_values", "items", "present")
    STRINGS_FIELD_NUMBER: _ClassVar[int]
    INTS_FIELD_NUMBER: _ClassVar[int]
    FLOATS_FIELD_NUMBER: _ClassVar[int]
    BYTES_VALUES_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    PRESENT_FIELD_NUMBER: _ClassVar[int]
    strings: StringColumnProto
    ints: IntColumnProto
    floats: FloatColumnProto
    bytes_values: BytesColumnProto
    items: ListProto
    present: bytes
    def __init__(self, strings: _Optional[_Union[StringColumnProto, _Mapping]] = ..., ints: _Optional[_Union[IntColumnProto, _Mapping]] = ..., floats: _Optional[_Union[FloatColumnProto, _Mapping]] = ..., bytes_values: _Optional[_Union[BytesColumnProto, _Mapping]] = ..., items: _Optional[_Union[ListProto, _Mapping]] = ..., present: _Optional[bytes] = ...) -> None: ...

class DocVecProto(_message.Message):
    __slots__ = ("length", "tensor_columns", "doc_columns", "doc_list_columns", "value_columns", "tensor_framework", "doc_type", "schema_version")
    class TensorColumnsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: TensorColumnProto
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[TensorColumnProto, _Mapping]] = ...) -> None: ...
    class DocColumnsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: DocVecProto
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[DocVecProto, _Mapping]] = ...) -> None: ...
    class DocListColumnsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: DocVecListColumnProto
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[DocVecListColumnProto, _Mapping]] = ...) -> None: ...
    class ValueColumnsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ValueColumnProto
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ValueColumnProto, _Mapping]] = ...) -> None: ...
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    TENSOR_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    DOC_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    DOC_LIST_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    VALUE_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    TENSOR_FRAMEWORK_FIELD_NUMBER: _ClassVar[int]
    DOC_TYPE_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    length: int
    tensor_columns: _containers.MessageMap[str, TensorColumnProto]
    doc_columns: _containers.MessageMap[str, DocVecProto]
    doc_list_columns: _containers.MessageMap[str, DocVecListColumnProto]
    value_columns: _containers.MessageMap[str, ValueColumnProto]
    tensor_framework: str
    doc_type: str
    schema_version: int
    def __init__(self, length: _Optional[int] = ..., tensor_columns: _Optional[_Mapping[str, TensorColumnProto]] = ..., doc_columns: _Optional[_Mapping[str, DocVecProto]] = ..., doc_list_columns: _Optional[_Mapping[str, DocVecListColumnProto]] = ..., value_columns: _Optional[_Mapping[str, ValueColumnProto]] = ..., tensor_framework: _Optional[str] = ..., doc_type: _Optional[str] = ..., schema_version: _Optional[int] = ...) -> None: ...

class ArrayProto(_message.Message):
    __slots__ = ("doc_list", "doc_vec")
    DOC_LIST_FIELD_NUMBER: _ClassVar[int]
    DOC_VEC_FIELD_NUMBER: _ClassVar[int]
    doc_list: DocListProto
    doc_vec: DocVecProto
    def __init__(self, doc_list: _Optional[_Union[DocListProto, _Mapping]] = ..., doc_vec: _Optional[_Union[DocVecProto, _Mapping]] = ...) -> None: ...
