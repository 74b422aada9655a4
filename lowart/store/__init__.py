"""Persistence: schema, migrations, repositories and at-rest encryption."""

from lowart.store._agent_tasks import AgentTaskStore, StoredTask, TaskPage
from lowart.store._aliases import AliasStore
from lowart.store._api_keys import KeyStore
from lowart.store._config_version import read_version
from lowart.store._crypto import SecretBox, SecretBoxError
from lowart.store._duplicate import DuplicateName
from lowart.store._engine import migrate, open_engine
from lowart.store._fallbacks import FallbackStore
from lowart.store._files import FileStore
from lowart.store._health import HealthStore
from lowart.store._jobs import JobStore
from lowart.store._mcp_servers import McpServerStore
from lowart.store._models import ModelStore
from lowart.store._report import REPORT_GROUPS, UsageFilter
from lowart.store._responses import ResponseStore, StoredResponse
from lowart.store._tables import REQUEST_ID_MAX_LENGTH, TOKEN_COLUMN_MAX
from lowart.store._tool_calls import ToolCallStore
from lowart.store._tool_policies import ToolPolicyStore
from lowart.store._tool_sessions import Claim, ToolSessionStore
from lowart.store._usage import UsageStore, is_data_error
from lowart.store._usage_search import SERIES_COLUMNS, UsageSearch

__all__ = [
    "REPORT_GROUPS",
    "REQUEST_ID_MAX_LENGTH",
    "SERIES_COLUMNS",
    "TOKEN_COLUMN_MAX",
    "AgentTaskStore",
    "AliasStore",
    "Claim",
    "DuplicateName",
    "FallbackStore",
    "FileStore",
    "HealthStore",
    "JobStore",
    "KeyStore",
    "McpServerStore",
    "ModelStore",
    "ResponseStore",
    "SecretBox",
    "SecretBoxError",
    "StoredResponse",
    "StoredTask",
    "TaskPage",
    "ToolCallStore",
    "ToolPolicyStore",
    "ToolSessionStore",
    "UsageFilter",
    "UsageSearch",
    "UsageStore",
    "is_data_error",
    "migrate",
    "open_engine",
    "read_version",
]
