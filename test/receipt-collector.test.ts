// The gateway gathers what each subgraph reported it returned (gateway/scopes/receipts.ts), in
// either form a subgraph sends: the report (`kaminaReceipts`, each consent its fields) or the
// lists the gateway asks for (`kaminaReceiptLists`, each list once). Whatever the form, a
// consent's receipt names the union of its fields, sorted; what is not shaped like a report is
// ignored, never half-read.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ReceiptCollector } from "../gateway/scopes/receipts.ts";

const DEBTS = ["User.debtSummary", "User.debts"];
const WELLNESS = ["User.wellness", "Wellness.band", "Wellness.score"];

describe("the gateway's receipt collector", () => {
  test("lists and reports of several subgraphs merge per consent, sorted, one receipt per consent", () => {
    const receipts = new ReceiptCollector();
    receipts.addLists({ fields: [DEBTS, ["User.debts"]], consents: { cns_a: 0, cns_b: 0, cns_c: 1 } });
    receipts.add({ cns_a: WELLNESS, cns_c: ["User.wellness"] });
    receipts.addLists({ fields: [["User.alerts"]], consents: { cns_b: 0 } });
    assert.deepEqual(receipts.entries(), [
      { consentId: "cns_a", fields: [...DEBTS, ...WELLNESS] },
      { consentId: "cns_b", fields: ["User.alerts", ...DEBTS] },
      { consentId: "cns_c", fields: ["User.debts", "User.wellness"] },
    ]);
    assert.deepEqual(receipts.report(), { cns_a: [...DEBTS, ...WELLNESS], cns_b: ["User.alerts", ...DEBTS], cns_c: ["User.debts", "User.wellness"] });
  });

  test("consents read under the same lists share one array of fields, and the entries stay the same until something is added", () => {
    const receipts = new ReceiptCollector();
    const consents = Object.fromEntries(Array.from({ length: 20 }, (_, index) => [`cns_${index}`, 0]));
    receipts.addLists({ fields: [DEBTS], consents });
    receipts.addLists({ fields: [WELLNESS], consents });
    const entries = receipts.entries();
    assert.equal(entries.length, 20);
    assert.ok(entries.every((entry) => entry.fields === entries[0]!.fields), "one merged array for the twenty");
    assert.deepEqual(entries[0]!.fields, [...DEBTS, ...WELLNESS]);
    assert.equal(receipts.entries(), entries);
    receipts.add({ cns_0: ["User.alerts"] });
    const after = receipts.entries();
    assert.notEqual(after, entries);
    assert.deepEqual(after[0]!.fields, ["User.alerts", ...DEBTS, ...WELLNESS]);
    assert.deepEqual(after[1]!.fields, [...DEBTS, ...WELLNESS], "the others keep theirs");
  });

  test("the same field reported twice, or by two lists, is named once", () => {
    const receipts = new ReceiptCollector();
    receipts.addLists({ fields: [DEBTS, DEBTS.slice(1)], consents: { cns_a: 0 } });
    receipts.addLists({ fields: [DEBTS], consents: { cns_a: 0 } });
    receipts.add({ cns_a: ["User.debts"] });
    assert.deepEqual(receipts.entries(), [{ consentId: "cns_a", fields: DEBTS }]);
  });

  test("what is not shaped like lists or a report is ignored: nothing of it becomes a receipt", () => {
    const receipts = new ReceiptCollector();
    for (const reported of [null, undefined, 7, "cns_a", [], [[DEBTS]], { fields: DEBTS }, { consents: { cns_a: 0 } }, { fields: "x", consents: { cns_a: 0 } }, { fields: [DEBTS], consents: [0] }, { fields: [DEBTS], consents: null }]) {
      receipts.addLists(reported);
    }
    // A place that names no list: out of range, negative, not a whole number, not a number, or a list that is not one.
    receipts.addLists({ fields: [DEBTS, "User.debts", null], consents: { cns_1: 3, cns_2: -1, cns_3: 0.5, cns_4: "0", cns_5: null, cns_6: 1, cns_7: 2, __proto__: 0 } });
    for (const reported of [null, 7, "cns_a", [DEBTS], { cns_a: "User.debts" }, { cns_a: null }, { cns_a: { 0: "User.debts" } }]) receipts.add(reported);
    assert.equal(receipts.isEmpty, true, JSON.stringify(receipts.report()));
    assert.deepEqual(receipts.entries(), []);
  });

  test("a list's items that are not strings are dropped, its strings kept", () => {
    const receipts = new ReceiptCollector();
    receipts.addLists({ fields: [["User.debts", 7, null, { toString: "x" }, "User.debtSummary"]], consents: { cns_a: 0 } });
    receipts.add({ cns_b: [["User.wellness"], "User.wellness"] });
    assert.deepEqual(receipts.entries(), [
      { consentId: "cns_a", fields: DEBTS },
      { consentId: "cns_b", fields: ["User.wellness"] },
    ]);
  });

  test("a consent id such as __proto__ from a subgraph's JSON is a key like any other, not a prototype", () => {
    const receipts = new ReceiptCollector();
    receipts.addLists(JSON.parse('{"fields":[["User.debts"]],"consents":{"__proto__":0,"constructor":0}}'));
    assert.deepEqual(receipts.entries().map((entry) => entry.consentId), ["__proto__", "constructor"]);
    assert.equal(({} as Record<string, unknown>).debts, undefined);
  });
});
