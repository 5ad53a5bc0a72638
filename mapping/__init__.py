"""The journey-mapping domain core: pure Python, no I/O besides reading the packaged default map.

The main entry points are re-exported here; the modules hold the rest.
"""
from mapping.classify import JourneyState, classify
from mapping.coverage import CoverageReport, coverage
from mapping.mapfile import (default_map, default_map_text, load_map_file, map_from_dict, map_to_dict,
                             map_to_yaml, parse_map)
from mapping.model import (UNMAPPED, ActionRule, Condition, Exit, JourneyMap, PersonaRule, Source,
                           Stage, StageTargets)
from mapping.preview import PreviewReport, preview
from mapping.problems import MapProblem, MapValidationError
from mapping.records import CANONICAL_FIELDS, WRITEBACK_FIELDS, CrmRecord, CrmStage, StageChange
from mapping.serialize import record_from_dict, record_to_dict, state_from_dict, state_to_dict
from mapping.timeline import TimelineSpan, timeline
from mapping.validate import validate_map_data
from mapping.writeback import CHOICE_FIELDS, desired_writeback, plan_writeback, writeback_choices

__all__ = [
    "ActionRule", "CANONICAL_FIELDS", "CHOICE_FIELDS", "Condition", "CoverageReport", "CrmRecord", "CrmStage", "Exit",
    "JourneyMap",
    "JourneyState", "MapProblem", "MapValidationError", "PersonaRule", "PreviewReport", "Source", "Stage", "StageTargets",
    "StageChange", "TimelineSpan", "UNMAPPED", "WRITEBACK_FIELDS", "classify", "coverage",
    "default_map", "default_map_text", "desired_writeback", "load_map_file", "map_from_dict",
    "map_to_dict", "map_to_yaml", "parse_map", "plan_writeback", "preview", "record_from_dict",
    "record_to_dict", "state_from_dict", "state_to_dict", "timeline", "validate_map_data",
    "writeback_choices",
]
