// Per-country reference data for the synthetic households: currency, local issuers, price
// and income levels, realistic APR ranges per debt type, and merchants with real ISO 18245
// merchant category codes (MCC). Amounts here are in major units of the local currency.
import { WeightedTable } from "./prng.ts";

export const COUNTRIES = ["EC", "MX", "PE", "CO", "CL"] as const;
export type CountryCode = (typeof COUNTRIES)[number];

export const DEBT_TYPES = [
  "CREDIT_CARD",
  "INSTALLMENT",
  "PERSONAL_LOAN",
  "MORTGAGE",
  "AUTO_LOAN",
  "MICROCREDIT",
  "PAYDAY",
] as const;
export type DebtTypeCode = (typeof DEBT_TYPES)[number];

export const EXPENSE_CATEGORIES = [
  "food",
  "groceries",
  "transport",
  "utilities",
  "health",
  "education",
  "entertainment",
  "clothing",
  "housing",
  "telecom",
] as const;
export type ExpenseCategory = (typeof EXPENSE_CATEGORIES)[number];

export interface Merchant {
  name: string;
  /** ISO 18245 merchant category code, four digits. */
  mcc: string;
}

export interface Issuer {
  name: string;
  /** Debt products this issuer plausibly sells. */
  types: readonly DebtTypeCode[];
}

type AprTable = Record<DebtTypeCode, readonly [min: number, max: number]>;

export interface CountryProfile {
  code: CountryCode;
  currency: string;
  /** Share of the synthetic population (Kamina is Ecuadorian: Ecuador is heaviest). */
  weight: number;
  /** Fixed UTC offset in hours used for local times of day (no DST tables needed). */
  utcOffsetHours: number;
  /** Median net monthly salary, local currency. */
  medianMonthlyIncome: number;
  /** Local currency units per US dollar of purchasing power, for pricing purchases. */
  priceScale: number;
  /** Smallest step prices are rounded to, in cents (COP and CLP have no cents in practice). */
  priceStepCents: number;
  /** Smallest step computed amounts (balances, instalments) are rounded to, in cents. */
  amountStepCents: number;
  issuers: readonly Issuer[];
  /** APR as a fraction, per debt type; reflects local caps (EC, CO) or their absence (MX, PE). */
  apr: AprTable;
  merchants: Record<ExpenseCategory, readonly Merchant[]>;
  travelGoal: string;
  employers: readonly string[];
}

const BANK: readonly DebtTypeCode[] = ["CREDIT_CARD", "PERSONAL_LOAN", "MORTGAGE", "AUTO_LOAN", "PAYDAY", "INSTALLMENT"];
const CARD_ISSUER: readonly DebtTypeCode[] = ["CREDIT_CARD", "INSTALLMENT"];
const RETAIL_LENDER: readonly DebtTypeCode[] = ["CREDIT_CARD", "INSTALLMENT", "PERSONAL_LOAN", "MICROCREDIT"];
const MICRO_LENDER: readonly DebtTypeCode[] = ["MICROCREDIT", "PERSONAL_LOAN", "PAYDAY"];

// Merchants that operate in every one of the five countries.
const REGIONAL = {
  food: [
    { name: "McDonald's", mcc: "5814" },
    { name: "KFC", mcc: "5814" },
    { name: "Starbucks", mcc: "5814" },
    { name: "Rappi Restaurantes", mcc: "5812" },
  ],
  transport: [
    { name: "Uber", mcc: "4121" },
    { name: "DiDi", mcc: "4121" },
  ],
  entertainment: [
    { name: "Netflix", mcc: "4899" },
    { name: "Spotify", mcc: "5815" },
    { name: "Disney+", mcc: "4899" },
  ],
  clothing: [
    { name: "Zara", mcc: "5651" },
    { name: "Adidas", mcc: "5661" },
  ],
  education: [
    { name: "Platzi", mcc: "8299" },
    { name: "Coursera", mcc: "8299" },
  ],
} as const satisfies Partial<Record<ExpenseCategory, readonly Merchant[]>>;

export const COUNTRY_PROFILES: Record<CountryCode, CountryProfile> = {
  EC: {
    code: "EC",
    currency: "USD",
    weight: 0.4,
    utcOffsetHours: -5,
    medianMonthlyIncome: 650,
    priceScale: 1,
    priceStepCents: 5,
    amountStepCents: 1,
    issuers: [
      { name: "Banco Pichincha", types: [...BANK, "MICROCREDIT"] },
      { name: "Produbanco", types: BANK },
      { name: "Banco Guayaquil", types: BANK },
      { name: "Diners Club", types: CARD_ISSUER },
      { name: "Banco del Pacífico", types: [...BANK, "MICROCREDIT"] },
    ],
    // Ecuador caps rates by segment (consumo ~16.8 %, microcrédito up to ~28 %).
    apr: {
      CREDIT_CARD: [0.15, 0.17],
      INSTALLMENT: [0.14, 0.17],
      PERSONAL_LOAN: [0.15, 0.168],
      MORTGAGE: [0.085, 0.11],
      AUTO_LOAN: [0.11, 0.16],
      MICROCREDIT: [0.2, 0.28],
      PAYDAY: [0.16, 0.28],
    },
    merchants: {
      food: [
        ...REGIONAL.food,
        { name: "Sweet & Coffee", mcc: "5814" },
        { name: "Menestras del Negro", mcc: "5814" },
        { name: "Pollo Gus", mcc: "5812" },
        { name: "Pizza Hut Ecuador", mcc: "5814" },
      ],
      groceries: [
        { name: "Supermaxi", mcc: "5411" },
        { name: "Mi Comisariato", mcc: "5411" },
        { name: "Tía", mcc: "5411" },
        { name: "Akí", mcc: "5411" },
        { name: "Santa María", mcc: "5411" },
      ],
      transport: [
        ...REGIONAL.transport,
        { name: "Metro de Quito", mcc: "4111" },
        { name: "Primax", mcc: "5541" },
        { name: "Petroecuador EP", mcc: "5541" },
      ],
      utilities: [
        { name: "Empresa Eléctrica Quito", mcc: "4900" },
        { name: "CNEL EP", mcc: "4900" },
        { name: "EPMAPS Agua Quito", mcc: "4900" },
      ],
      health: [
        { name: "Fybeca", mcc: "5912" },
        { name: "Pharmacys", mcc: "5912" },
        { name: "Farmacias Cruz Azul", mcc: "5912" },
        { name: "Hospital Metropolitano", mcc: "8062" },
        { name: "Veris Centro Médico", mcc: "8011" },
      ],
      education: [
        ...REGIONAL.education,
        { name: "Librería Española", mcc: "5942" },
        { name: "Unidad Educativa Particular", mcc: "8211" },
        { name: "Universidad Central del Ecuador", mcc: "8220" },
      ],
      entertainment: [
        ...REGIONAL.entertainment,
        { name: "Supercines", mcc: "7832" },
        { name: "Cinemark Ecuador", mcc: "7832" },
        { name: "Ticketshow", mcc: "7922" },
      ],
      clothing: [
        ...REGIONAL.clothing,
        { name: "De Prati", mcc: "5311" },
        { name: "Etafashion", mcc: "5691" },
        { name: "RM", mcc: "5651" },
      ],
      housing: [
        { name: "Kywi", mcc: "5200" },
        { name: "Ferrisariato", mcc: "5251" },
        { name: "Arriendo departamento", mcc: "6513" },
      ],
      telecom: [
        { name: "Claro Ecuador", mcc: "4814" },
        { name: "Movistar Ecuador", mcc: "4814" },
        { name: "CNT", mcc: "4814" },
        { name: "Netlife", mcc: "4816" },
      ],
    },
    travelGoal: "Viaje a Galápagos",
    employers: ["Corporación Favorita", "Pronaca", "Banco Pichincha", "Grupo El Juri", "Ministerio de Educación"],
  },
  MX: {
    code: "MX",
    currency: "MXN",
    weight: 0.2,
    utcOffsetHours: -6,
    medianMonthlyIncome: 12500,
    priceScale: 17.5,
    priceStepCents: 50,
    amountStepCents: 1,
    issuers: [
      { name: "BBVA México", types: BANK },
      { name: "Banorte", types: BANK },
      { name: "Santander México", types: BANK },
      { name: "Citibanamex", types: BANK },
      { name: "Coppel", types: RETAIL_LENDER },
    ],
    // No usury cap: card rates commonly 35-75 % a year, retail credit higher.
    apr: {
      CREDIT_CARD: [0.36, 0.75],
      INSTALLMENT: [0.38, 0.65],
      PERSONAL_LOAN: [0.3, 0.58],
      MORTGAGE: [0.1, 0.128],
      AUTO_LOAN: [0.13, 0.19],
      MICROCREDIT: [0.6, 0.95],
      PAYDAY: [0.85, 1.3],
    },
    merchants: {
      food: [
        ...REGIONAL.food,
        { name: "VIPS", mcc: "5812" },
        { name: "Taquería El Califa", mcc: "5812" },
        { name: "Domino's México", mcc: "5814" },
        { name: "OXXO", mcc: "5499" },
      ],
      groceries: [
        { name: "Walmart", mcc: "5411" },
        { name: "Bodega Aurrerá", mcc: "5411" },
        { name: "Soriana", mcc: "5411" },
        { name: "Chedraui", mcc: "5411" },
        { name: "La Comer", mcc: "5411" },
      ],
      transport: [
        ...REGIONAL.transport,
        { name: "Metro CDMX", mcc: "4111" },
        { name: "Pemex", mcc: "5541" },
        { name: "ADO", mcc: "4131" },
      ],
      utilities: [
        { name: "CFE", mcc: "4900" },
        { name: "Naturgy México", mcc: "4900" },
        { name: "SACMEX Agua", mcc: "4900" },
      ],
      health: [
        { name: "Farmacias del Ahorro", mcc: "5912" },
        { name: "Farmacias Guadalajara", mcc: "5912" },
        { name: "Farmacias Similares", mcc: "5912" },
        { name: "Hospital Ángeles", mcc: "8062" },
        { name: "Salud Digna", mcc: "8071" },
      ],
      education: [
        ...REGIONAL.education,
        { name: "Librerías Gandhi", mcc: "5942" },
        { name: "Colegio Particular", mcc: "8211" },
        { name: "UNITEC", mcc: "8220" },
      ],
      entertainment: [
        ...REGIONAL.entertainment,
        { name: "Cinépolis", mcc: "7832" },
        { name: "Cinemex", mcc: "7832" },
        { name: "Ticketmaster México", mcc: "7922" },
      ],
      clothing: [
        ...REGIONAL.clothing,
        { name: "Liverpool", mcc: "5311" },
        { name: "Suburbia", mcc: "5651" },
        { name: "C&A México", mcc: "5651" },
      ],
      housing: [
        { name: "The Home Depot México", mcc: "5200" },
        { name: "Comex", mcc: "5251" },
        { name: "Renta departamento", mcc: "6513" },
      ],
      telecom: [
        { name: "Telcel", mcc: "4814" },
        { name: "AT&T México", mcc: "4814" },
        { name: "Telmex Infinitum", mcc: "4816" },
        { name: "Izzi", mcc: "4899" },
      ],
    },
    travelGoal: "Viaje a Cancún",
    employers: ["Grupo Bimbo", "FEMSA", "Walmart de México", "Grupo Salinas", "IMSS"],
  },
  PE: {
    code: "PE",
    currency: "PEN",
    weight: 0.15,
    utcOffsetHours: -5,
    medianMonthlyIncome: 2300,
    priceScale: 3.7,
    priceStepCents: 10,
    amountStepCents: 1,
    issuers: [
      { name: "BCP", types: [...BANK, "MICROCREDIT"] },
      { name: "Interbank", types: BANK },
      { name: "BBVA Perú", types: BANK },
      { name: "Scotiabank Perú", types: BANK },
    ],
    // Peru's consumer rates are among the highest in the region.
    apr: {
      CREDIT_CARD: [0.45, 0.95],
      INSTALLMENT: [0.3, 0.6],
      PERSONAL_LOAN: [0.18, 0.48],
      MORTGAGE: [0.08, 0.105],
      AUTO_LOAN: [0.11, 0.16],
      MICROCREDIT: [0.35, 0.7],
      PAYDAY: [0.7, 1.1],
    },
    merchants: {
      food: [
        ...REGIONAL.food,
        { name: "Pardos Chicken", mcc: "5812" },
        { name: "Bembos", mcc: "5814" },
        { name: "La Lucha Sanguchería", mcc: "5814" },
        { name: "Norky's", mcc: "5812" },
      ],
      groceries: [
        { name: "Plaza Vea", mcc: "5411" },
        { name: "Tottus", mcc: "5411" },
        { name: "Metro", mcc: "5411" },
        { name: "Wong", mcc: "5411" },
        { name: "Mass", mcc: "5411" },
      ],
      transport: [
        ...REGIONAL.transport,
        { name: "Metropolitano", mcc: "4111" },
        { name: "Línea 1 Metro de Lima", mcc: "4111" },
        { name: "Primax", mcc: "5541" },
      ],
      utilities: [
        { name: "Luz del Sur", mcc: "4900" },
        { name: "Enel Perú", mcc: "4900" },
        { name: "Sedapal", mcc: "4900" },
        { name: "Cálidda", mcc: "4900" },
      ],
      health: [
        { name: "Inkafarma", mcc: "5912" },
        { name: "Mifarma", mcc: "5912" },
        { name: "Clínica Internacional", mcc: "8062" },
        { name: "Sanna Centro Clínico", mcc: "8011" },
      ],
      education: [
        ...REGIONAL.education,
        { name: "Librería Crisol", mcc: "5942" },
        { name: "Colegio Particular", mcc: "8211" },
        { name: "Universidad Tecnológica del Perú", mcc: "8220" },
      ],
      entertainment: [
        ...REGIONAL.entertainment,
        { name: "Cineplanet", mcc: "7832" },
        { name: "Cinemark Perú", mcc: "7832" },
        { name: "Teleticket", mcc: "7922" },
      ],
      clothing: [
        ...REGIONAL.clothing,
        { name: "Saga Falabella", mcc: "5311" },
        { name: "Ripley", mcc: "5311" },
        { name: "Topitop", mcc: "5651" },
      ],
      housing: [
        { name: "Promart", mcc: "5200" },
        { name: "Sodimac Perú", mcc: "5200" },
        { name: "Alquiler departamento", mcc: "6513" },
      ],
      telecom: [
        { name: "Claro Perú", mcc: "4814" },
        { name: "Movistar Perú", mcc: "4814" },
        { name: "Entel Perú", mcc: "4814" },
        { name: "Bitel", mcc: "4814" },
      ],
    },
    travelGoal: "Viaje a Cusco",
    employers: ["Alicorp", "Grupo Romero", "Credicorp", "Backus", "Gobierno Regional"],
  },
  CO: {
    code: "CO",
    currency: "COP",
    weight: 0.15,
    utcOffsetHours: -5,
    medianMonthlyIncome: 2_300_000,
    priceScale: 4000,
    priceStepCents: 10_000,
    amountStepCents: 100,
    issuers: [
      { name: "Bancolombia", types: BANK },
      { name: "Davivienda", types: BANK },
      { name: "Banco de Bogotá", types: BANK },
      { name: "Nequi", types: MICRO_LENDER },
    ],
    // Colombia caps consumer credit at the usury rate (~25-30 % effective a year).
    apr: {
      CREDIT_CARD: [0.24, 0.29],
      INSTALLMENT: [0.2, 0.28],
      PERSONAL_LOAN: [0.17, 0.27],
      MORTGAGE: [0.11, 0.14],
      AUTO_LOAN: [0.13, 0.19],
      MICROCREDIT: [0.35, 0.55],
      PAYDAY: [0.26, 0.29],
    },
    merchants: {
      food: [
        ...REGIONAL.food,
        { name: "Crepes & Waffles", mcc: "5812" },
        { name: "Frisby", mcc: "5814" },
        { name: "El Corral", mcc: "5814" },
        { name: "Juan Valdez Café", mcc: "5814" },
      ],
      groceries: [
        { name: "Éxito", mcc: "5411" },
        { name: "Carulla", mcc: "5411" },
        { name: "D1", mcc: "5411" },
        { name: "Ara", mcc: "5411" },
        { name: "Olímpica", mcc: "5411" },
      ],
      transport: [
        ...REGIONAL.transport,
        { name: "TransMilenio", mcc: "4111" },
        { name: "Metro de Medellín", mcc: "4111" },
        { name: "Terpel", mcc: "5541" },
      ],
      utilities: [
        { name: "EPM", mcc: "4900" },
        { name: "Enel Colombia", mcc: "4900" },
        { name: "Vanti", mcc: "4900" },
        { name: "Acueducto de Bogotá", mcc: "4900" },
      ],
      health: [
        { name: "Cruz Verde", mcc: "5912" },
        { name: "Farmatodo", mcc: "5912" },
        { name: "Droguerías La Rebaja", mcc: "5912" },
        { name: "Colsanitas", mcc: "8011" },
      ],
      education: [
        ...REGIONAL.education,
        { name: "Librería Nacional", mcc: "5942" },
        { name: "Colegio Privado", mcc: "8211" },
        { name: "SENA Cursos", mcc: "8299" },
      ],
      entertainment: [
        ...REGIONAL.entertainment,
        { name: "Cine Colombia", mcc: "7832" },
        { name: "Cinemark Colombia", mcc: "7832" },
        { name: "Tuboleta", mcc: "7922" },
      ],
      clothing: [
        ...REGIONAL.clothing,
        { name: "Arturo Calle", mcc: "5691" },
        { name: "Studio F", mcc: "5651" },
        { name: "Koaj", mcc: "5651" },
      ],
      housing: [
        { name: "Homecenter", mcc: "5200" },
        { name: "Ferretería Samir", mcc: "5251" },
        { name: "Arriendo apartamento", mcc: "6513" },
      ],
      telecom: [
        { name: "Claro Colombia", mcc: "4814" },
        { name: "Movistar Colombia", mcc: "4814" },
        { name: "Tigo", mcc: "4814" },
        { name: "WOM Colombia", mcc: "4814" },
      ],
    },
    travelGoal: "Viaje a Cartagena",
    employers: ["Grupo Éxito", "Ecopetrol", "Grupo Nutresa", "Avianca", "Alcaldía de Medellín"],
  },
  CL: {
    code: "CL",
    currency: "CLP",
    weight: 0.1,
    utcOffsetHours: -4,
    medianMonthlyIncome: 780_000,
    priceScale: 930,
    priceStepCents: 1000,
    amountStepCents: 100,
    issuers: [
      { name: "Banco de Chile", types: BANK },
      { name: "BancoEstado", types: [...BANK, "MICROCREDIT"] },
      { name: "Santander Chile", types: BANK },
      { name: "Falabella", types: RETAIL_LENDER },
    ],
    // Chile's maximum conventional rate keeps consumer credit roughly under 40 %.
    apr: {
      CREDIT_CARD: [0.26, 0.38],
      INSTALLMENT: [0.22, 0.36],
      PERSONAL_LOAN: [0.16, 0.3],
      MORTGAGE: [0.042, 0.058],
      AUTO_LOAN: [0.09, 0.15],
      MICROCREDIT: [0.25, 0.38],
      PAYDAY: [0.33, 0.39],
    },
    merchants: {
      food: [
        ...REGIONAL.food,
        { name: "Doggis", mcc: "5814" },
        { name: "Juan Maestro", mcc: "5814" },
        { name: "Tarragona", mcc: "5812" },
        { name: "Dominó", mcc: "5814" },
      ],
      groceries: [
        { name: "Líder", mcc: "5411" },
        { name: "Jumbo", mcc: "5411" },
        { name: "Unimarc", mcc: "5411" },
        { name: "Santa Isabel", mcc: "5411" },
        { name: "Tottus Chile", mcc: "5411" },
      ],
      transport: [
        ...REGIONAL.transport,
        { name: "Red Movilidad", mcc: "4111" },
        { name: "Metro de Santiago", mcc: "4111" },
        { name: "Copec", mcc: "5541" },
      ],
      utilities: [
        { name: "Enel Chile", mcc: "4900" },
        { name: "CGE", mcc: "4900" },
        { name: "Aguas Andinas", mcc: "4900" },
        { name: "Metrogas", mcc: "4900" },
      ],
      health: [
        { name: "Cruz Verde Chile", mcc: "5912" },
        { name: "Salcobrand", mcc: "5912" },
        { name: "Farmacias Ahumada", mcc: "5912" },
        { name: "Clínica Alemana", mcc: "8062" },
        { name: "IntegraMédica", mcc: "8011" },
      ],
      education: [
        ...REGIONAL.education,
        { name: "Librería Antártica", mcc: "5942" },
        { name: "Colegio Particular Subvencionado", mcc: "8211" },
        { name: "Duoc UC", mcc: "8220" },
      ],
      entertainment: [
        ...REGIONAL.entertainment,
        { name: "Cinemark Chile", mcc: "7832" },
        { name: "Cineplanet Chile", mcc: "7832" },
        { name: "Puntoticket", mcc: "7922" },
      ],
      clothing: [
        ...REGIONAL.clothing,
        { name: "Paris", mcc: "5311" },
        { name: "Ripley Chile", mcc: "5311" },
        { name: "Falabella Moda", mcc: "5311" },
      ],
      housing: [
        { name: "Sodimac", mcc: "5200" },
        { name: "Easy", mcc: "5200" },
        { name: "Arriendo departamento", mcc: "6513" },
      ],
      telecom: [
        { name: "Entel", mcc: "4814" },
        { name: "Movistar Chile", mcc: "4814" },
        { name: "WOM", mcc: "4814" },
        { name: "VTR", mcc: "4899" },
      ],
    },
    travelGoal: "Viaje a Torres del Paine",
    employers: ["Cencosud", "Falabella", "Codelco", "LATAM Airlines", "Municipalidad de Santiago"],
  },
};

/** Typical purchase size per category in US dollars of purchasing power: [median, log-spread]. */
export const PURCHASE_SIZE: Record<ExpenseCategory, readonly [median: number, sigma: number]> = {
  food: [7, 0.55],
  groceries: [32, 0.6],
  transport: [6, 0.8],
  utilities: [32, 0.35],
  health: [16, 0.8],
  education: [35, 0.7],
  entertainment: [11, 0.5],
  clothing: [38, 0.5],
  housing: [24, 0.7],
  telecom: [22, 0.3],
};

/** Relative frequency of day-to-day purchases by category (bills are generated separately). */
export const PURCHASE_MIX = new WeightedTable<ExpenseCategory>([
  ["food", 0.27],
  ["groceries", 0.24],
  ["transport", 0.2],
  ["health", 0.06],
  ["entertainment", 0.09],
  ["clothing", 0.06],
  ["education", 0.04],
  ["housing", 0.04],
]);

/** Loan sizes as multiples of monthly income, and terms in months. */
export const DEBT_SHAPE: Record<DebtTypeCode, { size: readonly [number, number]; termMonths: readonly [number, number] }> = {
  CREDIT_CARD: { size: [0.8, 3.5], termMonths: [0, 0] },
  INSTALLMENT: { size: [0.3, 1.8], termMonths: [6, 24] },
  PERSONAL_LOAN: { size: [1.5, 9], termMonths: [12, 60] },
  MORTGAGE: { size: [35, 110], termMonths: [180, 300] },
  AUTO_LOAN: { size: [8, 25], termMonths: [36, 72] },
  MICROCREDIT: { size: [0.4, 3], termMonths: [6, 24] },
  PAYDAY: { size: [0.2, 0.5], termMonths: [1, 3] },
};

export const DEBT_TYPE_MIX = new WeightedTable<DebtTypeCode>([
  ["CREDIT_CARD", 0.36],
  ["INSTALLMENT", 0.2],
  ["PERSONAL_LOAN", 0.15],
  ["MICROCREDIT", 0.09],
  ["AUTO_LOAN", 0.07],
  ["MORTGAGE", 0.05],
  ["PAYDAY", 0.08],
]);

export const GOAL_KINDS = ["emergency_fund", "education", "home", "travel", "retirement"] as const;
export type GoalKind = (typeof GOAL_KINDS)[number];

export function goalName(kind: GoalKind, profile: CountryProfile): string {
  switch (kind) {
    case "emergency_fund":
      return "Fondo de emergencia";
    case "education":
      return "Educación de los hijos";
    case "home":
      return "Entrada para vivienda propia";
    case "travel":
      return profile.travelGoal;
    case "retirement":
      return "Jubilación tranquila";
  }
}

/** Goal targets as multiples of monthly income. */
export const GOAL_SIZE: Record<GoalKind, readonly [number, number]> = {
  emergency_fund: [2, 6],
  education: [4, 15],
  home: [15, 40],
  travel: [1, 4],
  retirement: [20, 60],
};

export const COACH_INTENTS = ["debt_stress", "budgeting_help", "savings_plan", "payment_reminder", "income_loss"] as const;
export type CoachIntent = (typeof COACH_INTENTS)[number];

export const ALERT_TYPES = ["missed_due_date", "expense_spike_food", "dti_above_limit", "income_drop", "savings_depleted"] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export const COUNTRY_MIX = new WeightedTable<CountryCode>(COUNTRIES.map((code) => [code, COUNTRY_PROFILES[code].weight] as const));
