"""Labels and attribute specs in CVAT's words: validation, colours, skeletons and CVAT's patch
semantics (``id`` to update, no ``id`` to create, ``deleted: true`` to remove)."""

from __future__ import annotations

import copy
import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from .errors import NotFoundError, ValidationError

NAME_MAX = 64
ATTR_VALUE_MAX = 200  # each entry of an attribute spec's ``values``
DEFAULT_VALUE_MAX = 128
ANNOTATION_VALUE_MAX = 4096
_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
_SVG_NAME_RE = re.compile(r'data-label-name="([^"]*)"')


class LabelType(StrEnum):
    ANY = "any"
    CUBOID = "cuboid"
    ELLIPSE = "ellipse"
    MASK = "mask"
    POINTS = "points"
    POLYGON = "polygon"
    POLYLINE = "polyline"
    RECTANGLE = "rectangle"
    SKELETON = "skeleton"
    INTERVAL = "interval"
    TAG = "tag"


class InputType(StrEnum):
    CHECKBOX = "checkbox"
    RADIO = "radio"
    NUMBER = "number"
    TEXT = "text"
    SELECT = "select"


@dataclass(slots=True)
class AttributeSpec:
    """A label attribute (CVAT ``Attribute``). ``values`` for ``number`` is ``[min, max, step]``.

    The one definition: labels store it, the annotation model checks values against it and the
    formats read and write it.
    """

    id: int
    name: str
    input_type: InputType = InputType.TEXT
    mutable: bool = False
    values: list[str] = field(default_factory=list)
    default_value: str = ""

    def check_value(self, value: str) -> str | None:
        """Return why ``value`` is not valid for this attribute, or ``None`` when it is.

        Lenient on purpose (no step check, a malformed spec passes), as imported and stored
        annotations are; :func:`validate_attribute_value` is the strict check of new values.
        """
        if not isinstance(value, str):
            return "must be a string"
        if len(value) > ANNOTATION_VALUE_MAX:
            return f"is longer than {ANNOTATION_VALUE_MAX} characters"
        kind = self.input_type
        if kind == InputType.CHECKBOX:
            if value.lower() not in ("true", "false"):
                return f"'{value}' is not 'true' or 'false'"
        elif kind in (InputType.RADIO, InputType.SELECT):
            # CVAT's "__undefined__" placeholder is a legal select value when listed.
            if self.values and value not in self.values:
                return f"'{value}' is not one of {self.values}"
        elif kind == InputType.NUMBER:
            try:
                number = float(value)
            except ValueError:
                return f"'{value}' is not a number"
            if not math.isfinite(number):
                return f"'{value}' is not a finite number"
            if len(self.values) >= 2:
                try:
                    low, high = float(self.values[0]), float(self.values[1])
                except ValueError:
                    return None  # a malformed spec is the label's problem, not the value's
                if not low <= number <= high:
                    return f"{value} is outside [{self.values[0]}, {self.values[1]}]"
        return None


@dataclass(slots=True)
class Label:
    id: int
    name: str
    color: str
    type: LabelType = LabelType.ANY
    svg: str = ""
    project_id: int | None = None
    task_id: int | None = None
    parent_id: int | None = None  # set on skeleton sublabels
    attributes: list[AttributeSpec] = field(default_factory=list)
    version: int = 0

    @property
    def has_parent(self) -> bool:
        return self.parent_id is not None


# --- input (what the HTTP edge parses a PatchedLabelRequest / SublabelRequest into) -------------


@dataclass(slots=True)
class AttributeInput:
    name: str | None = None
    input_type: str | None = None
    mutable: bool | None = None
    values: list[str] | None = None
    default_value: str | None = None
    id: int | None = None
    deleted: bool = False


@dataclass(slots=True)
class LabelInput:
    name: str | None = None
    color: str | None = None
    type: str | None = None
    svg: str | None = None
    attributes: list[AttributeInput] = field(default_factory=list)
    sublabels: list[LabelInput] = field(default_factory=list)
    id: int | None = None
    deleted: bool = False


# --- attribute rules ----------------------------------------------------------------------------


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def normalize_attribute(
    name: str, input_type: InputType, values: Sequence[str], default_value: str | None
) -> tuple[list[str], str]:
    """Check an attribute spec's ``values`` and ``default_value`` for its input type; return them
    normalised (the default filled in as CVAT's UI would)."""
    key = f"attributes[{name}]"
    vals = [str(v) for v in values]
    if any(len(v) > ATTR_VALUE_MAX for v in vals):
        raise ValidationError(
            fields={key: [f"Each value must have no more than {ATTR_VALUE_MAX} characters."]}
        )
    if default_value is not None and len(default_value) > DEFAULT_VALUE_MAX:
        raise ValidationError(
            fields={key: [f"default_value must have no more than {DEFAULT_VALUE_MAX} characters."]}
        )

    if input_type == InputType.CHECKBOX:
        vals = [v.lower() for v in vals]
        # CVAT's UI sends one value (the default); FiftyOne sends both for CVAT >= 2.5
        if not 1 <= len(vals) <= 2 or len(set(vals)) != len(vals) or not set(vals) <= {"true", "false"}:
            raise ValidationError(fields={key: ["A checkbox has the values 'true' and/or 'false'."]})
        default = (default_value or (vals[0] if len(vals) == 1 else "false")).lower()
        if default not in ("true", "false"):
            raise ValidationError(fields={key: ["The default of a checkbox is 'true' or 'false'."]})
        return vals, default

    if input_type in (InputType.RADIO, InputType.SELECT):
        if not vals or any(v == "" for v in vals):
            raise ValidationError(fields={key: [f"A {input_type} attribute needs non-empty values."]})
        if len(set(vals)) != len(vals):
            raise ValidationError(fields={key: ["Attribute values must be unique."]})
        default = vals[0] if default_value in (None, "") else default_value
        if default not in vals:
            raise ValidationError(fields={key: ["The default value must be one of the values."]})
        return vals, default

    if input_type == InputType.NUMBER:
        try:
            low, high, step = (_number(v) for v in vals) if len(vals) == 3 else (None, None, None)
        except ValueError:
            low = high = step = None
        if low is None or high is None or step is None:
            raise ValidationError(fields={key: ["A number attribute has values [min, max, step]."]})
        if low > high or step <= 0:
            raise ValidationError(fields={key: ["A number attribute needs min <= max and step > 0."]})
        default = vals[0] if default_value in (None, "") else default_value
        try:
            number = _number(default)
        except ValueError:
            raise ValidationError(fields={key: ["The default value must be a number."]}) from None
        if not low <= number <= high:
            raise ValidationError(fields={key: ["The default value must be within [min, max]."]})
        return vals, default

    if input_type == InputType.TEXT:
        if len(vals) > 1:
            raise ValidationError(fields={key: ["A text attribute has at most one value (its default)."]})
        default = default_value if default_value is not None else (vals[0] if vals else "")
        return vals, default

    raise ValidationError(fields={key: [f'"{input_type}" is not a valid input_type.']})


def validate_attribute_value(spec: AttributeSpec, value: str) -> str:
    """Check one annotation attribute value against its spec (for the annotation services)."""
    key = f"attributes[{spec.name}]"
    if len(value) > ANNOTATION_VALUE_MAX:
        raise ValidationError(
            fields={key: [f"Ensure this field has no more than {ANNOTATION_VALUE_MAX} characters."]}
        )
    if spec.input_type == InputType.CHECKBOX:
        if value.lower() not in ("true", "false"):
            raise ValidationError(fields={key: [f"'{value}' is not a checkbox value."]})
        return value.lower()
    if spec.input_type in (InputType.RADIO, InputType.SELECT):
        if value not in spec.values:
            raise ValidationError(fields={key: [f"'{value}' is not one of {spec.values}."]})
        return value
    if spec.input_type == InputType.NUMBER:
        low, high, step = (_number(v) for v in spec.values)
        try:
            number = _number(value)
        except ValueError:
            raise ValidationError(fields={key: [f"'{value}' is not a number."]}) from None
        steps = (number - low) / step
        if not low <= number <= high or abs(steps - round(steps)) > 1e-6:
            raise ValidationError(fields={key: [f"'{value}' is not in [{low}, {high}] with step {step}."]})
        return value
    return value


# --- colours ------------------------------------------------------------------------------------


def _normalize_name(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9_]", "_", ascii_name.lower())


def _spread_bits(index: int) -> tuple[int, int, int]:
    # Deal the bits of a 24-bit number round-robin to R, G, B from the most significant bit
    # down: names with close hashes still get visibly different colours.
    rgb = [0, 0, 0]
    for bit in range(7, -1, -1):
        for channel in range(3):
            rgb[channel] |= (index & 1) << bit
            index >>= 1
    return rgb[0], rgb[1], rgb[2]


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def label_color(name: str, used_colors: Iterable[str] = ()) -> str:
    """A colour for a new label, as CVAT picks it: derived from the label name (so the same name
    gets the same colour everywhere), tinted/shaded away from colours already used."""
    used = {c.lower() for c in used_colors if c}
    digest = hashlib.blake2s(_normalize_name(name).encode(), digest_size=3).digest()
    base = _spread_bits(int.from_bytes(digest, "big"))
    if _hex(base) not in used:
        return _hex(base)
    for target in (255, 0):
        for factor in range(1, 10):
            tinted = tuple(int(c + (target - c) * factor / 10) for c in base)
            candidate = _hex((tinted[0], tinted[1], tinted[2]))
            if candidate not in used:
                return candidate
    counter = 1
    while True:  # terminates: at most len(used) + 1 candidates collide
        digest = hashlib.blake2s(f"{name}#{counter}".encode(), digest_size=3).digest()
        candidate = _hex(_spread_bits(int.from_bytes(digest, "big")))
        if candidate not in used:
            return candidate
        counter += 1


def validate_color(color: str) -> str:
    if not _COLOR_RE.match(color):
        raise ValidationError(fields={"color": ["Color must be a '#rrggbb' hex string."]})
    return color.lower()


def validate_label_name(name: str | None) -> str:
    if name is None or not name.strip():
        raise ValidationError(fields={"name": ["This field may not be blank."]})
    if len(name) > NAME_MAX:
        raise ValidationError(fields={"name": [f"Ensure this field has no more than {NAME_MAX} characters."]})
    return name


def parse_label_type(value: str | None, default: LabelType = LabelType.ANY) -> LabelType:
    if value is None:
        return default
    try:
        return LabelType(value)
    except ValueError:
        raise ValidationError(fields={"type": [f'"{value}" is not a valid choice.']}) from None


def parse_input_type(value: str | None, attr_name: str) -> InputType:
    try:
        return InputType(value or "")
    except ValueError:
        raise ValidationError(
            fields={f"attributes[{attr_name}]": [f'"{value}" is not a valid input_type.']}
        ) from None


# --- patch semantics ----------------------------------------------------------------------------

IdFactory = Callable[[str], int]


@dataclass(slots=True)
class LabelChanges:
    """What applying label patches did; the caller persists it."""

    added: list[Label] = field(default_factory=list)
    updated: list[Label] = field(default_factory=list)
    deleted: list[Label] = field(default_factory=list)
    # label id -> the changed fields' previous values (for update events)
    before_update: dict[int, dict[str, object]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.added or self.updated or self.deleted)


def _apply_attributes(label: Label, patches: Sequence[AttributeInput], new_id: IdFactory) -> bool:
    changed = False
    for patch in patches:
        existing: AttributeSpec | None = None
        if patch.id is not None:
            existing = next((a for a in label.attributes if a.id == patch.id), None)
            if existing is None:
                raise NotFoundError(f"Attribute with id #{patch.id} does not exist")
        elif patch.name is not None:
            existing = next((a for a in label.attributes if a.name == patch.name), None)
        if patch.deleted:
            if existing is None:
                raise ValidationError(fields={"attributes": ["Deleted attribute must have an ID"]})
            label.attributes.remove(existing)
            changed = True
            continue
        if existing is None:
            name = validate_label_name(patch.name)
            if patch.mutable is None or patch.values is None or patch.input_type is None:
                raise ValidationError(
                    fields={f"attributes[{name}]": ["name, mutable, input_type and values are required."]}
                )
            input_type = parse_input_type(patch.input_type, name)
            values, default = normalize_attribute(name, input_type, patch.values, patch.default_value)
            label.attributes.append(
                AttributeSpec(new_id("attribute"), name, input_type, bool(patch.mutable), values, default)
            )
            changed = True
            continue
        name = validate_label_name(patch.name) if patch.name is not None else existing.name
        input_type = parse_input_type(patch.input_type, name) if patch.input_type else existing.input_type
        values = list(patch.values) if patch.values is not None else existing.values
        default_in = (
            patch.default_value
            if patch.default_value is not None
            else (
                existing.default_value
                if existing.default_value in values or input_type in (InputType.TEXT, InputType.NUMBER)
                else None
            )
        )
        values, default = normalize_attribute(name, input_type, values, default_in)
        new = AttributeSpec(
            existing.id,
            name,
            input_type,
            existing.mutable if patch.mutable is None else bool(patch.mutable),
            values,
            default,
        )
        if new != existing:
            label.attributes[label.attributes.index(existing)] = new
            changed = True
    names = [a.name for a in label.attributes]
    if len(set(names)) != len(names):
        raise ValidationError(
            fields={"attributes": [f"Attribute names of label '{label.name}' must be unique."]}
        )
    return changed


def _map_svg(svg: str, sublabels: Sequence[Label]) -> str:
    """CVAT stores a skeleton's SVG with ``data-label-id`` instead of the client's
    ``data-label-name`` references."""
    by_name = {s.name: s.id for s in sublabels}

    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in by_name:
            raise ValidationError(fields={"svg": [f"The SVG refers to an unknown sublabel '{name}'."]})
        return f'data-label-id="{by_name[name]}"'

    return _SVG_NAME_RE.sub(repl, svg)


def _snapshot(label: Label) -> dict[str, object]:
    return {
        "name": label.name,
        "color": label.color,
        "type": label.type,
        "svg": label.svg,
        "attributes": [copy.copy(a) for a in label.attributes],
    }


class LabelSet:
    """The labels of one task or project (including skeleton sublabels), edited in memory with
    CVAT's rules. ``apply`` validates everything before anything is returned."""

    def __init__(
        self, labels: Iterable[Label], *, task_id: int | None = None, project_id: int | None = None
    ) -> None:
        if (task_id is None) == (project_id is None):
            raise ValueError("a LabelSet belongs to exactly one task or one project")
        self.task_id = task_id
        self.project_id = project_id
        self._labels = {lb.id: copy.deepcopy(lb) for lb in labels}

    @property
    def labels(self) -> list[Label]:
        return sorted(self._labels.values(), key=lambda lb: lb.id)

    def top_level(self) -> list[Label]:
        return [lb for lb in self.labels if lb.parent_id is None]

    def sublabels(self, parent_id: int) -> list[Label]:
        return [lb for lb in self.labels if lb.parent_id == parent_id]

    def apply(self, patches: Sequence[LabelInput], new_id: IdFactory) -> LabelChanges:
        changes = LabelChanges()
        originals = {i: _snapshot(lb) for i, lb in self._labels.items()}
        for patch in patches:
            self._apply_one(patch, None, new_id, changes)
        self._check_unique_names()
        # Report an updated label once, with what it was before the whole request.
        seen: set[int] = set()
        updated = []
        for label in changes.updated:
            if label.id in seen or label in changes.added or label.id not in self._labels:
                continue
            seen.add(label.id)
            before = {k: v for k, v in originals[label.id].items() if _snapshot(label)[k] != v}
            if before:
                updated.append(copy.deepcopy(label))
                changes.before_update[label.id] = before
        changes.updated = updated
        changes.added = [copy.deepcopy(lb) for lb in changes.added if lb.id in self._labels]
        return changes

    def _check_unique_names(self) -> None:
        seen: set[tuple[int | None, str]] = set()
        for label in self._labels.values():
            key = (label.parent_id, label.name)
            if key in seen:
                where = (
                    "skeleton" if label.parent_id is not None else ("project" if self.project_id else "task")
                )
                raise ValidationError(
                    fields={"labels": [f"Label '{label.name}' already exists in this {where}."]}
                )
            seen.add(key)

    def _apply_one(
        self, patch: LabelInput, parent: Label | None, new_id: IdFactory, changes: LabelChanges
    ) -> Label | None:
        if patch.id is not None:
            label = self._labels.get(patch.id)
            if label is None:
                raise NotFoundError(f"Not found label with id #{patch.id} to change")
            if patch.deleted:
                self._delete(label, changes)
                return None
            self._update(label, patch, new_id, changes)
            return label
        if patch.deleted:
            raise ValidationError(fields={"labels": ["Deleted label must have an ID"]})
        return self._create(patch, parent, new_id, changes)

    def _delete(self, label: Label, changes: LabelChanges) -> None:
        for sub in self.sublabels(label.id):
            self._delete(sub, changes)
        del self._labels[label.id]
        if label in changes.added:
            changes.added.remove(label)
        else:
            changes.deleted.append(copy.deepcopy(label))

    def _used_colors(self, except_id: int | None = None) -> list[str]:
        return [lb.color for lb in self._labels.values() if lb.id != except_id and lb.parent_id is None]

    def _create(
        self, patch: LabelInput, parent: Label | None, new_id: IdFactory, changes: LabelChanges
    ) -> Label:
        name = validate_label_name(patch.name)
        label_type = parse_label_type(patch.type)
        if parent is not None and label_type == LabelType.SKELETON:
            raise ValidationError(fields={"sublabels": ["A skeleton cannot contain skeletons."]})
        label = Label(
            id=new_id("label"),
            name=name,
            color="",
            type=label_type,
            task_id=self.task_id,
            project_id=self.project_id,
            parent_id=parent.id if parent else None,
        )
        label.color = (
            validate_color(patch.color)
            if patch.color
            else label_color(
                name, self._used_colors() if parent is None else [s.color for s in self.sublabels(parent.id)]
            )
        )
        self._labels[label.id] = label
        changes.added.append(label)
        _apply_attributes(label, patch.attributes, new_id)
        if label_type == LabelType.SKELETON:
            if not patch.sublabels:
                raise ValidationError(fields={"sublabels": ["Skeleton label must have sublabels."]})
            if not patch.svg:
                raise ValidationError(fields={"svg": ["Skeleton label must have an SVG."]})
            for sub in patch.sublabels:
                if sub.id is not None or sub.deleted:
                    raise ValidationError(
                        fields={"sublabels": ["A new skeleton cannot refer to existing sublabels."]}
                    )
                self._create(sub, label, new_id, changes)
            label.svg = _map_svg(patch.svg, self.sublabels(label.id))
        elif patch.sublabels:
            raise ValidationError(fields={"sublabels": ["Only skeleton labels can have sublabels."]})
        else:
            label.svg = patch.svg or ""
        return label

    def _update(self, label: Label, patch: LabelInput, new_id: IdFactory, changes: LabelChanges) -> None:
        if patch.name is not None:
            label.name = validate_label_name(patch.name)
        if patch.type is not None:
            new_type = parse_label_type(patch.type)
            if LabelType.SKELETON in (label.type, new_type) and new_type != label.type:
                raise ValidationError(
                    fields={"type": ["Type cannot be changed from skeleton or to skeleton"]}
                )
            label.type = new_type
        if patch.color:
            label.color = validate_color(patch.color)
        _apply_attributes(label, patch.attributes, new_id)
        if patch.sublabels:
            if label.type != LabelType.SKELETON:
                raise ValidationError(fields={"sublabels": ["Only skeleton labels can have sublabels."]})
            for sub in patch.sublabels:
                if sub.id is not None:
                    sub_label = self._labels.get(sub.id)
                    if sub_label is None or sub_label.parent_id != label.id:
                        raise NotFoundError(f"Not found label with id #{sub.id} to change")
                    if sub.deleted:
                        self._delete(sub_label, changes)
                    else:
                        self._update(sub_label, sub, new_id, changes)
                        changes.updated.append(sub_label)
                else:
                    self._create(sub, label, new_id, changes)
            if not self.sublabels(label.id):
                raise ValidationError(fields={"sublabels": ["Skeleton label must have sublabels."]})
        if patch.svg is not None and label.type == LabelType.SKELETON:
            label.svg = _map_svg(patch.svg, self.sublabels(label.id))
        changes.updated.append(label)


def inherit_check(task_label_names: Iterable[str], project_labels: Iterable[Label]) -> dict[str, int]:
    """Moving a task into a project: every task label must exist (by name) among the project's
    top-level labels, as CVAT requires. Returns name -> project label id."""
    by_name = {lb.name: lb.id for lb in project_labels if lb.parent_id is None}
    missing = sorted(set(task_label_names) - set(by_name))
    if missing:
        raise ValidationError(
            fields={"project_id": [f"Target project does not have labels with names: {', '.join(missing)}"]}
        )
    return by_name
