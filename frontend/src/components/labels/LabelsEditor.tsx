// The labels editor of project and task forms, as CVAT's: a "Constructor" (labels, their type,
// colour, attributes, a skeleton's points and edges) and a "Raw" JSON view of the same list.
import { useEffect, useId, useState } from "react";
import type { Attribute, Label } from "../../api/types";
import {
  addPoint,
  attributeProblem,
  edgesToText,
  INPUT_TYPES,
  LABEL_TYPES,
  labelOwnProblems,
  labelsToRaw,
  newAttribute,
  newLabel,
  parseSkeleton,
  rawToLabels,
  removePoint,
  renamePoint,
  setEdges,
  textToEdges,
  textToValues,
  valuesToText,
  withInputType,
  withType,
} from "../../lib/labels";
import "./labels.css";

export interface LabelsEditorProps {
  value: Label[];
  onChange(labels: Label[]): void;
  /** labels that already exist on the server cannot be renamed to a taken name or lose their id */
  disabled?: boolean;
}

export function LabelsEditor({ value, onChange, disabled }: LabelsEditorProps) {
  const [view, setView] = useState<"constructor" | "raw">("constructor");
  const set = (index: number, label: Label) => onChange(value.map((l, i) => (i === index ? label : l)));
  return (
    <div className="labels-editor">
      <div className="labels-tabs" role="group" aria-label="Labels view">
        <button type="button" aria-pressed={view === "constructor"} onClick={() => setView("constructor")}>
          Constructor
        </button>
        <button type="button" aria-pressed={view === "raw"} onClick={() => setView("raw")}>
          Raw
        </button>
      </div>
      {view === "raw" ? (
        <RawLabels value={value} onChange={onChange} disabled={disabled} />
      ) : (
        <>
          {value.length === 0 ? <p className="muted">No labels yet.</p> : null}
          <ol className="labels-list">
            {value.map((label, index) => (
              <LabelRow key={label.id ?? `new-${index}`} index={index} label={label} disabled={disabled} onChange={(l) => set(index, l)} onRemove={() => onChange(value.filter((_, i) => i !== index))} />
            ))}
          </ol>
          <button type="button" disabled={disabled} onClick={() => onChange([...value, newLabel("", value)])}>
            Add label
          </button>
        </>
      )}
    </div>
  );
}

function RawLabels({ value, onChange, disabled }: LabelsEditorProps) {
  const [text, setText] = useState(() => labelsToRaw(value));
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  return (
    <div className="labels-raw">
      <label htmlFor={id}>Labels as JSON</label>
      <textarea
        id={id}
        rows={14}
        spellCheck={false}
        disabled={disabled}
        value={text}
        aria-invalid={error !== null}
        aria-describedby={error ? `${id}-error` : undefined}
        onChange={(e) => {
          setText(e.target.value);
          const result = rawToLabels(e.target.value);
          setError(result.error);
          if (result.labels) onChange(result.labels);
        }}
      />
      {error ? (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

function LabelRow({ index, label, disabled, onChange, onRemove }: { index: number; label: Label; disabled?: boolean; onChange(label: Label): void; onRemove(): void }) {
  const problems = labelOwnProblems(label);
  const name = label.name || `label ${index + 1}`;
  const setAttribute = (i: number, a: Attribute) => onChange({ ...label, attributes: label.attributes.map((x, j) => (j === i ? a : x)) });
  const existingSkeleton = label.id !== undefined && label.type === "skeleton";
  return (
    <li className="label-row" style={{ borderLeftColor: label.color ?? "#ccc" }}>
      <div className="label-main">
        <label>
          Label name
          <input aria-label={`Name of label ${index + 1}`} value={label.name} disabled={disabled} maxLength={64} aria-invalid={!label.name.trim()} onChange={(e) => onChange({ ...label, name: e.target.value })} />
        </label>
        <label>
          Type
          <select aria-label={`Type of ${name}`} value={label.type ?? "any"} disabled={disabled || existingSkeleton} onChange={(e) => onChange(withType(label, e.target.value))}>
            {LABEL_TYPES.filter((t) => !(label.id !== undefined && t === "skeleton" && label.type !== "skeleton")).map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          Colour
          <input type="color" aria-label={`Colour of ${name}`} value={label.color ?? "#b3b3b3"} disabled={disabled} onChange={(e) => onChange({ ...label, color: e.target.value })} />
        </label>
        <button type="button" className="label-remove" aria-label={`Remove label ${name}`} disabled={disabled} onClick={onRemove}>
          Remove
        </button>
      </div>
      {problems.length ? (
        <ul className="field-error">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      ) : null}
      {label.type === "skeleton" ? <SkeletonPoints label={label} name={name} disabled={disabled} onChange={onChange} /> : null}
      <fieldset className="label-attributes">
        <legend>Attributes of {name}</legend>
        {label.attributes.map((attribute, i) => (
          <AttributeRow
            key={attribute.id ?? `new-${i}`}
            index={i}
            label={name}
            attribute={attribute}
            disabled={disabled}
            onChange={(a) => setAttribute(i, a)}
            onRemove={() => onChange({ ...label, attributes: label.attributes.filter((_, j) => j !== i) })}
          />
        ))}
        <button type="button" disabled={disabled} onClick={() => onChange({ ...label, attributes: [...label.attributes, newAttribute()] })}>
          Add attribute to {name}
        </button>
      </fieldset>
    </li>
  );
}

function AttributeRow({ index, label, attribute, disabled, onChange, onRemove }: { index: number; label: string; attribute: Attribute; disabled?: boolean; onChange(a: Attribute): void; onRemove(): void }) {
  const [valuesText, setValuesText] = useState(valuesToText(attribute));
  // the text follows the values when they change elsewhere (the Raw view, a type switch)
  useEffect(() => {
    if (JSON.stringify(textToValues(attribute.input_type, valuesText)) !== JSON.stringify(attribute.values)) setValuesText(valuesToText(attribute));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [attribute.values, attribute.input_type]);
  const problem = attributeProblem(attribute);
  const errorId = useId();
  const name = attribute.name || "new attribute";
  const what = `${name} of ${label}`;
  const choices = attribute.input_type === "select" || attribute.input_type === "radio";
  return (
    <div className="attribute-row">
      <label>
        Attribute name
        <input aria-label={`Name of attribute ${index + 1} of ${label}`} value={attribute.name} maxLength={64} disabled={disabled} onChange={(e) => onChange({ ...attribute, name: e.target.value })} />
      </label>
      <label>
        Input type
        <select aria-label={`Input type of ${what}`} value={attribute.input_type} disabled={disabled} onChange={(e) => onChange(withInputType(attribute, e.target.value as Attribute["input_type"]))}>
          {INPUT_TYPES.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </label>
      {choices || attribute.input_type === "number" ? (
        <label>
          {attribute.input_type === "number" ? "Values (min;max;step)" : "Values (comma-separated)"}
          <input
            aria-label={`Values of ${what}`}
            value={valuesText}
            disabled={disabled}
            placeholder={attribute.input_type === "number" ? "0;100;1" : "red, green, blue"}
            aria-describedby={problem ? errorId : undefined}
            onChange={(e) => {
              setValuesText(e.target.value);
              const values = textToValues(attribute.input_type, e.target.value);
              const keep = attribute.input_type === "number" || values.includes(attribute.default_value);
              onChange({ ...attribute, values, default_value: keep ? attribute.default_value : (values[0] ?? "") });
            }}
          />
        </label>
      ) : null}
      <label>
        Default value
        {choices ? (
          <select aria-label={`Default value of ${what}`} value={attribute.default_value} disabled={disabled} onChange={(e) => onChange({ ...attribute, default_value: e.target.value })}>
            {attribute.values.length === 0 ? <option value="">(no values)</option> : null}
            {attribute.values.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
          </select>
        ) : attribute.input_type === "checkbox" ? (
          <select aria-label={`Default value of ${what}`} value={attribute.default_value} disabled={disabled} onChange={(e) => onChange({ ...attribute, default_value: e.target.value, values: [e.target.value] })}>
            <option value="false">false</option>
            <option value="true">true</option>
          </select>
        ) : (
          <input
            aria-label={`Default value of ${what}`}
            type={attribute.input_type === "number" ? "number" : "text"}
            value={attribute.default_value}
            disabled={disabled}
            onChange={(e) => onChange({ ...attribute, default_value: e.target.value })}
          />
        )}
      </label>
      <label className="inline-check">
        <input type="checkbox" checked={attribute.mutable} disabled={disabled} onChange={(e) => onChange({ ...attribute, mutable: e.target.checked })} />
        Mutable
      </label>
      <button type="button" aria-label={`Remove attribute ${what}`} disabled={disabled} onClick={onRemove}>
        Remove
      </button>
      {problem ? (
        <p id={errorId} className="field-error">
          {problem}
        </p>
      ) : null}
    </div>
  );
}

function SkeletonPoints({ label, name, disabled, onChange }: { label: Label; name: string; disabled?: boolean; onChange(label: Label): void }) {
  const skeleton = parseSkeleton(label);
  const [edgesText, setEdgesText] = useState(edgesToText(skeleton.edges));
  const [edgesError, setEdgesError] = useState<string | null>(null);
  const current = edgesToText(skeleton.edges);
  // the text follows the edges when points go (or the Raw view changes them)
  useEffect(() => {
    if (edgesError === null) setEdgesText(current);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [current]);
  return (
    <fieldset className="skeleton-points">
      <legend>Points of skeleton {name}</legend>
      <div className="skeleton-body">
        <svg viewBox="0 0 100 100" className="skeleton-preview" role="img" aria-label={`Skeleton ${name}: ${skeleton.points.length} points`}>
          {skeleton.edges.map(([a, b], i) => {
            const from = skeleton.points[a];
            const to = skeleton.points[b];
            return from && to ? <line key={i} x1={from.x} y1={from.y} x2={to.x} y2={to.y} stroke="#555" strokeWidth={0.8} /> : null;
          })}
          {skeleton.points.map((p, i) => (
            <g key={i}>
              <circle cx={p.x} cy={p.y} r={2.2} fill={label.color ?? "#b3b3b3"} stroke="#222" strokeWidth={0.3} />
              <text x={p.x + 3} y={p.y + 1.5} fontSize={5}>
                {i + 1}
              </text>
            </g>
          ))}
        </svg>
        <div>
          <ol className="point-list">
            {(label.sublabels ?? []).map((point, i) => (
              <li key={point.id ?? `new-${i}`}>
                <input aria-label={`Name of point ${i + 1} of ${name}`} value={point.name} maxLength={64} disabled={disabled} onChange={(e) => onChange(renamePoint(label, i, e.target.value))} />
                <button type="button" aria-label={`Remove point ${i + 1} of ${name}`} disabled={disabled || (label.sublabels ?? []).length <= 1} onClick={() => onChange(removePoint(label, i))}>
                  −
                </button>
              </li>
            ))}
          </ol>
          <button type="button" disabled={disabled} onClick={() => onChange(addPoint(label, String((label.sublabels ?? []).length + 1)))}>
            Add point to {name}
          </button>
          <label>
            Edges (point numbers, e.g. 1-2, 2-3)
            <input
              aria-label={`Edges of ${name}`}
              value={edgesText}
              disabled={disabled}
              aria-invalid={edgesError !== null}
              onChange={(e) => {
                setEdgesText(e.target.value);
                const result = textToEdges(e.target.value, skeleton.points.length);
                setEdgesError(result.error);
                if (!result.error) onChange(setEdges(label, result.edges));
              }}
            />
          </label>
          {edgesError ? <p className="field-error">{edgesError}</p> : null}
        </div>
      </div>
    </fieldset>
  );
}
