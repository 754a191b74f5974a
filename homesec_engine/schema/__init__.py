"""The shared schema package: one declarative source for config, API, events and entities.

Importable without Home Assistant. `MODELS` holds every model declaration by name.
"""

from __future__ import annotations

from .api import API_BASE, API_MODELS, ROUTES
from .config import ACTIVITY_TYPES, CONFIG_MODELS, DETECTION_CLASSES, RISK_LEVELS
from .entities import ENTITY_SPECS
from .events import ALERT_EVENT_TYPE, EVENT_MODELS
from .integration import INTEGRATION_MODELS, SERVICES
from .validate import SchemaValidationError, model_defaults, validate

MODELS = {**CONFIG_MODELS, **API_MODELS, **EVENT_MODELS, **INTEGRATION_MODELS}

__all__ = [
    "ACTIVITY_TYPES", "ALERT_EVENT_TYPE", "API_BASE", "DETECTION_CLASSES", "ENTITY_SPECS",
    "MODELS", "RISK_LEVELS", "ROUTES", "SERVICES", "SchemaValidationError", "model_defaults",
    "validate",
]
