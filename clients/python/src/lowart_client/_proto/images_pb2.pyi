import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ImageDelivery(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMAGE_DELIVERY_UNSPECIFIED: _ClassVar[ImageDelivery]
    IMAGE_DELIVERY_BYTES: _ClassVar[ImageDelivery]
    IMAGE_DELIVERY_REFERENCE: _ClassVar[ImageDelivery]

class ImageProgressState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMAGE_PROGRESS_STATE_UNSPECIFIED: _ClassVar[ImageProgressState]
    IMAGE_PROGRESS_STATE_QUEUED: _ClassVar[ImageProgressState]
    IMAGE_PROGRESS_STATE_RUNNING: _ClassVar[ImageProgressState]

class ImageJobStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMAGE_JOB_STATUS_UNSPECIFIED: _ClassVar[ImageJobStatus]
    IMAGE_JOB_STATUS_QUEUED: _ClassVar[ImageJobStatus]
    IMAGE_JOB_STATUS_RUNNING: _ClassVar[ImageJobStatus]
    IMAGE_JOB_STATUS_SUCCEEDED: _ClassVar[ImageJobStatus]
    IMAGE_JOB_STATUS_FAILED: _ClassVar[ImageJobStatus]
    IMAGE_JOB_STATUS_CANCELLED: _ClassVar[ImageJobStatus]
IMAGE_DELIVERY_UNSPECIFIED: ImageDelivery
IMAGE_DELIVERY_BYTES: ImageDelivery
IMAGE_DELIVERY_REFERENCE: ImageDelivery
IMAGE_PROGRESS_STATE_UNSPECIFIED: ImageProgressState
IMAGE_PROGRESS_STATE_QUEUED: ImageProgressState
IMAGE_PROGRESS_STATE_RUNNING: ImageProgressState
IMAGE_JOB_STATUS_UNSPECIFIED: ImageJobStatus
IMAGE_JOB_STATUS_QUEUED: ImageJobStatus
IMAGE_JOB_STATUS_RUNNING: ImageJobStatus
IMAGE_JOB_STATUS_SUCCEEDED: ImageJobStatus
IMAGE_JOB_STATUS_FAILED: ImageJobStatus
IMAGE_JOB_STATUS_CANCELLED: ImageJobStatus

class ImageSpec(_message.Message):
    __slots__ = ("model", "prompt", "negative_prompt", "n", "width", "height", "seed", "steps", "cfg", "image")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    NEGATIVE_PROMPT_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    CFG_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    model: str
    prompt: str
    negative_prompt: str
    n: int
    width: int
    height: int
    seed: int
    steps: int
    cfg: float
    image: InputImage
    def __init__(self, model: _Optional[str] = ..., prompt: _Optional[str] = ..., negative_prompt: _Optional[str] = ..., n: _Optional[int] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., seed: _Optional[int] = ..., steps: _Optional[int] = ..., cfg: _Optional[float] = ..., image: _Optional[_Union[InputImage, _Mapping]] = ...) -> None: ...

class InputImage(_message.Message):
    __slots__ = ("data", "content_type")
    DATA_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    content_type: str
    def __init__(self, data: _Optional[bytes] = ..., content_type: _Optional[str] = ...) -> None: ...

class GenerateImagesRequest(_message.Message):
    __slots__ = ("spec", "delivery")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    spec: ImageSpec
    delivery: ImageDelivery
    def __init__(self, spec: _Optional[_Union[ImageSpec, _Mapping]] = ..., delivery: _Optional[_Union[ImageDelivery, str]] = ...) -> None: ...

class GenerateImagesResponse(_message.Message):
    __slots__ = ("job_id", "model", "progress", "image", "summary")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    model: str
    progress: ImageProgress
    image: ImageOutput
    summary: ImageSummary
    def __init__(self, job_id: _Optional[str] = ..., model: _Optional[str] = ..., progress: _Optional[_Union[ImageProgress, _Mapping]] = ..., image: _Optional[_Union[ImageOutput, _Mapping]] = ..., summary: _Optional[_Union[ImageSummary, _Mapping]] = ...) -> None: ...

class ImageProgress(_message.Message):
    __slots__ = ("state", "queue_position", "node_id", "node_type", "node_index", "node_count", "step", "step_count")
    STATE_FIELD_NUMBER: _ClassVar[int]
    QUEUE_POSITION_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_TYPE_FIELD_NUMBER: _ClassVar[int]
    NODE_INDEX_FIELD_NUMBER: _ClassVar[int]
    NODE_COUNT_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    STEP_COUNT_FIELD_NUMBER: _ClassVar[int]
    state: ImageProgressState
    queue_position: int
    node_id: str
    node_type: str
    node_index: int
    node_count: int
    step: int
    step_count: int
    def __init__(self, state: _Optional[_Union[ImageProgressState, str]] = ..., queue_position: _Optional[int] = ..., node_id: _Optional[str] = ..., node_type: _Optional[str] = ..., node_index: _Optional[int] = ..., node_count: _Optional[int] = ..., step: _Optional[int] = ..., step_count: _Optional[int] = ...) -> None: ...

class ImageOutput(_message.Message):
    __slots__ = ("index", "file_id", "url", "content_type", "size_bytes", "data")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    index: int
    file_id: str
    url: str
    content_type: str
    size_bytes: int
    data: bytes
    def __init__(self, index: _Optional[int] = ..., file_id: _Optional[str] = ..., url: _Optional[str] = ..., content_type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class ImageSummary(_message.Message):
    __slots__ = ("image_count", "duration_ms")
    IMAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    image_count: int
    duration_ms: int
    def __init__(self, image_count: _Optional[int] = ..., duration_ms: _Optional[int] = ...) -> None: ...

class ImageJobError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ImageJob(_message.Message):
    __slots__ = ("id", "model", "status", "create_time", "start_time", "finish_time", "progress", "outputs", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    FINISH_TIME_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: str
    model: str
    status: ImageJobStatus
    create_time: _timestamp_pb2.Timestamp
    start_time: _timestamp_pb2.Timestamp
    finish_time: _timestamp_pb2.Timestamp
    progress: ImageProgress
    outputs: _containers.RepeatedCompositeFieldContainer[ImageOutput]
    error: ImageJobError
    def __init__(self, id: _Optional[str] = ..., model: _Optional[str] = ..., status: _Optional[_Union[ImageJobStatus, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., progress: _Optional[_Union[ImageProgress, _Mapping]] = ..., outputs: _Optional[_Iterable[_Union[ImageOutput, _Mapping]]] = ..., error: _Optional[_Union[ImageJobError, _Mapping]] = ...) -> None: ...

class CreateImageJobRequest(_message.Message):
    __slots__ = ("spec",)
    SPEC_FIELD_NUMBER: _ClassVar[int]
    spec: ImageSpec
    def __init__(self, spec: _Optional[_Union[ImageSpec, _Mapping]] = ...) -> None: ...

class CreateImageJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: ImageJob
    def __init__(self, job: _Optional[_Union[ImageJob, _Mapping]] = ...) -> None: ...

class GetImageJobRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetImageJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: ImageJob
    def __init__(self, job: _Optional[_Union[ImageJob, _Mapping]] = ...) -> None: ...

class ListImageJobsRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class ListImageJobsResponse(_message.Message):
    __slots__ = ("jobs",)
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[ImageJob]
    def __init__(self, jobs: _Optional[_Iterable[_Union[ImageJob, _Mapping]]] = ...) -> None: ...

class CancelImageJobRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class CancelImageJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: ImageJob
    def __init__(self, job: _Optional[_Union[ImageJob, _Mapping]] = ...) -> None: ...
