// A panel of the person view: its content, or "not consented" when the consent does not grant the field.
import type { ComponentChildren } from "preact";

export function Section({ title, notConsented, children }: { title: string; notConsented: boolean; children: ComponentChildren }) {
  const id = `section-${title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return (
    <section class="panel" aria-labelledby={id}>
      <h3 id={id}>{title}</h3>
      {notConsented ? (
        <p class="not-consented" data-not-consented="true">
          Not consented: the person's consent does not grant this.
        </p>
      ) : (
        children
      )}
    </section>
  );
}

export function money(amount: string | number, currency: string): string {
  return new Intl.NumberFormat("en", { style: "currency", currency, maximumFractionDigits: 0 }).format(Number(amount));
}
