// One term of a details list (<dl className="details-grid">) on the task and job pages.
import type { ReactNode } from "react";

export function Item({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}
