"""The journey map: ordered journey stages, exits, CRM stage sources, persona and action rules.

The models describe the shape of a valid map; :mod:`mapping.validate` adds the checks that need the
whole map (unique keys, references between sections) and turns every failure into a located problem.
Build maps with :func:`mapping.mapfile.parse_map` or :func:`mapping.mapfile.map_from_dict`.
"""
from __future__ import annotations

import re
import string
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from mapping.records import CANONICAL_FIELDS

if TYPE_CHECKING:
    from mapping.compiled import CompiledMap

#: The journey key of a record whose CRM stage the map does not name (or that has no stage).
UNMAPPED = "unmapped"
UNMAPPED_LABEL = "Unmapped"

#: Persona condition operators, in the order the documentation lists them.
OPERATORS: tuple[str, ...] = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "contains", "exists")

#: Prefix of persona condition fields that read a raw CRM field instead of a canonical one.
CRM_FIELD_PREFIX = "crm."

_KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]*")


def _check_key(value: str) -> str:
    if not _KEY_PATTERN.fullmatch(value):
        raise ValueError(f"{value!r} must be a lowercase identifier (a-z, 0-9 and _, starting with a letter)")
    if value == UNMAPPED:
        raise ValueError(f"{UNMAPPED!r} is reserved for records the map does not place")
    return value


def _check_days(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError("must be a positive number")
    if value != int(value):
        raise ValueError("must be a whole number of days")
    return int(value)


def _check_percent(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise ValueError("must be a percentage from 0 to 100")
    return float(value)


def _check_operator(value: str) -> str:
    if value not in OPERATORS:
        raise ValueError(f"unknown operator {value!r} (use one of {', '.join(OPERATORS)})")
    return value


def _check_condition_field(value: str) -> str:
    if value in CANONICAL_FIELDS or (value.startswith(CRM_FIELD_PREFIX) and len(value) > len(CRM_FIELD_PREFIX)):
        return value
    raise ValueError(f"unknown field {value!r} (use one of {', '.join(CANONICAL_FIELDS)}, "
                     f"or {CRM_FIELD_PREFIX}<FieldName> for a raw CRM field)")


Key = Annotated[str, AfterValidator(_check_key)]
Days = Annotated[int, BeforeValidator(_check_days)]
Percent = Annotated[float, BeforeValidator(_check_percent)]


class _Frozen(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")


class StageTargets(_Frozen):
    """What a stage should achieve, shown against the actual figures on the dashboard.

    ``conversion``: the percentage of the records that reached the stage that go on to reach the
    next one (the funnel's conversion); ``median_days``: the median whole days in the stage."""

    conversion: Percent | None = None
    median_days: Days | None = None


class Stage(_Frozen):
    """A journey stage. ``expected_days`` None means the stage never stalls; ``owner`` names the
    team or person answering for the stage's targets."""

    key: Key
    label: str
    expected_days: Days | None = None
    goal: str | None = None
    owner: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    targets: StageTargets | None = None


class Exit(_Frozen):
    """A terminal outcome that is not a stage (lost, converted); exits never stall."""

    key: Key
    label: str


class Source(_Frozen):
    """How one CRM object's stage field maps to journey keys.

    ``stages`` maps CRM stage values to journey keys; ``pipelines`` does the same per pipeline id.
    With both, a pipeline's own mapping wins and ``stages`` serves every pipeline.
    """

    field: str
    stages: dict[str, str] | None = None
    pipelines: dict[str, dict[str, str]] | None = None

    @model_validator(mode="after")
    def _needs_a_mapping(self) -> Source:
        if self.stages is None and self.pipelines is None:
            raise ValueError("needs 'stages' or 'pipelines'")
        return self

    def lookup(self, value: str, pipeline: str | None) -> str | None:
        """The journey key for a CRM stage value, or None when this source does not name it."""
        if self.pipelines and pipeline in self.pipelines:
            key = self.pipelines[pipeline].get(value)
            if key is not None:
                return key
        return self.stages.get(value) if self.stages else None


class Condition(_Frozen):
    """One persona condition: ``<field> <op> <value>`` on a canonical field or ``crm.<FieldName>``."""

    field: Annotated[str, AfterValidator(_check_condition_field)]
    op: Annotated[str, AfterValidator(_check_operator)]
    value: Any = None


class PersonaRule(_Frozen):
    """A persona and the conditions that must all hold for a record to have it.

    A persona key may appear in several rules (with the same label): any of them matching gives it.
    """

    key: Key
    label: str
    when: list[Condition]


class ActionRule(_Frozen):
    """A next best action; each key left out (None) matches anything.

    ``crm`` and ``object`` match the record's own CRM and object: a Salesforce contact is a
    ``contact`` here even though its stage follows an opportunity.
    """

    action: str
    stage: str | None = None
    persona: str | None = None
    stalled: bool | None = None
    crm: str | None = None
    object: str | None = None


class PeopleRule(_Frozen):
    """How the records linked to one person make that person's journey (see :mod:`mapping.people`).

    ``stage``: ``furthest`` (default) takes the furthest journey stage among the linked records,
    ``latest`` the stage entered most recently; either way an exit counts only when every placed
    linked record is in an exit. ``link_by_email``: records without an explicit link from their CRM
    are linked by the same e-mail address (trimmed, without case).
    """

    stage: Literal["furthest", "latest"] = "furthest"
    link_by_email: bool = True


#: Placeholders a task subject may use (``tasks.subject``).
TASK_PLACEHOLDERS: tuple[str, ...] = ("record", "stage", "action", "persona", "days_over")


def _check_subject(value: str) -> str:
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
    except ValueError as exc:
        raise ValueError(f"not a valid template ({exc})") from None
    unknown = [name for name in fields if name not in TASK_PLACEHOLDERS]
    if unknown:
        raise ValueError(f"unknown placeholder {{{unknown[0]}}} (use "
                         f"{', '.join('{' + p + '}' for p in TASK_PLACEHOLDERS)})")
    return value


class TaskRule(_Frozen):
    """When a record's owner gets a task in the CRM, and what it says.

    ``on_stalled``: when the record stalls (one task per stall of a stage entry); ``on_enter``:
    when it enters one of these stages. ``subject`` is a template over :data:`TASK_PLACEHOLDERS`;
    the task is due ``due_in_days`` after it is planned and carries the next best action.
    """

    on_stalled: bool = True
    on_enter: list[Key] = []
    subject: Annotated[str, AfterValidator(_check_subject), Field(min_length=1, max_length=200)] = \
        "{stage} stalled: {action}"
    due_in_days: Days = 2


class ReviewRule(_Frozen):
    """How often RevOps review the map: a reminder shows once ``every_days`` have passed since
    the last review (a new version applied, or an explicit "mark reviewed")."""

    every_days: Days = 90


class JourneyMap(_Frozen):
    """A whole journey map. Construct through :mod:`mapping.mapfile` so that every rule is checked.

    To derive a changed map, edit ``map_to_dict(jmap)`` and call ``map_from_dict``: ``model_copy``
    would skip the checks and carry over the cached lookups of the original.
    """

    version: Literal[1]
    name: str
    stages: Annotated[list[Stage], Field(min_length=1)]
    exits: list[Exit] = []
    sources: dict[str, dict[str, Source]] = {}
    personas: list[PersonaRule] = []
    default_persona: Key = "general"
    default_persona_label: str | None = None
    actions: list[ActionRule] = []
    people: PeopleRule | None = None
    #: Tasks for record owners; None (no ``tasks:`` section) creates none.
    tasks: TaskRule | None = None
    #: The review period; None (no ``review:`` section) means the default, quarterly.
    review: ReviewRule | None = None

    @property
    def review_rule(self) -> ReviewRule:
        """The map's review period, or the default (every 90 days) when the map leaves it out."""
        return self.review or ReviewRule()

    @cached_property
    def compiled(self) -> CompiledMap:
        """The lookups classification needs, derived on first use and kept with this map version."""
        from mapping.compiled import CompiledMap  # built from this model, so imported once it exists
        return CompiledMap(self)

    @property
    def people_rule(self) -> PeopleRule:
        """The map's people rule, or the default one when the map leaves ``people`` out."""
        return self.people or PeopleRule()

    @cached_property
    def stage_keys(self) -> tuple[str, ...]:
        """Journey stage keys, earliest first (exits not included)."""
        return tuple(stage.key for stage in self.stages)

    @cached_property
    def _stage_positions(self) -> dict[str, int]:
        return {key: index for index, key in enumerate(self.stage_keys)}

    @cached_property
    def _labels(self) -> dict[str, str]:
        labels = {UNMAPPED: UNMAPPED_LABEL}
        labels.update((exit_.key, exit_.label) for exit_ in self.exits)
        labels.update((stage.key, stage.label) for stage in self.stages)
        return labels

    @cached_property
    def _persona_labels(self) -> dict[str, str]:
        default_label = self.default_persona_label or self.default_persona.replace("_", " ").capitalize()
        labels = {self.default_persona: default_label}
        for rule in reversed(self.personas):
            labels[rule.key] = rule.label
        return labels

    @cached_property
    def _expected_days(self) -> dict[str, int | None]:
        return {stage.key: stage.expected_days for stage in self.stages}

    @cached_property
    def exit_keys(self) -> frozenset[str]:
        """Keys of the map's exits."""
        return frozenset(exit_.key for exit_ in self.exits)

    @cached_property
    def persona_keys(self) -> frozenset[str]:
        """Every persona key a record can get, the default persona included."""
        return frozenset(self._persona_labels)

    def stage_index(self, key: str) -> int | None:
        """Position of a journey stage in the map (0 = earliest); None for exits and unknown keys."""
        return self._stage_positions.get(key)

    def is_exit(self, key: str) -> bool:
        """Whether ``key`` names one of the map's exits."""
        return key in self.exit_keys

    def label(self, key: str) -> str:
        """The label of a stage or exit key (``unmapped`` included); KeyError for unknown keys."""
        return self._labels[key]

    def expected_days(self, key: str) -> int | None:
        """Expected days in a stage; None for exits, unmapped and stages that never stall."""
        return self._expected_days.get(key)

    def persona_label(self, key: str) -> str:
        """The label of a persona key (the default persona included); KeyError for unknown keys."""
        return self._persona_labels[key]

    def source(self, crm: str, object_: str, stage_object: str | None = None) -> Source | None:
        """The source that classifies a record of ``crm``/``object_``.

        A record whose stage follows another object (``stage_object``) uses its own object's source
        when the map has one, and the followed object's source otherwise.
        """
        objects = self.sources.get(crm, {})
        found = objects.get(object_)
        if found is None and stage_object is not None:
            found = objects.get(stage_object)
        return found

    def lookup(self, crm: str, source_object: str, value: str | None,
               pipeline: str | None = None) -> str | None:
        """The journey key (stage or exit) that a CRM stage value maps to, or None if unmapped."""
        source = self.sources.get(crm, {}).get(source_object)
        if source is None or value is None:
            return None
        return source.lookup(value, pipeline)
