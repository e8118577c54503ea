// Short synthetic Spanish transcripts of Kami coach conversations, one template set per
// intent. They are invented text about invented people; no real conversation is used.
import type { CoachIntent } from "./catalogue.ts";
import type { Rng } from "./prng.ts";

const OPENERS: Record<CoachIntent, readonly string[]> = {
  debt_stress: [
    "Usuario: Ya no sé cómo pagar todas mis deudas, cada mes debo más.",
    "Usuario: Me llaman del banco todos los días y me siento muy agobiado.",
    "Usuario: Tengo tres tarjetas al tope y no duermo pensando en eso.",
  ],
  budgeting_help: [
    "Usuario: Quiero armar un presupuesto pero no sé por dónde empezar.",
    "Usuario: Cada quincena se me va el sueldo y no sé en qué.",
    "Usuario: ¿Me ayudas a ordenar mis gastos del mes?",
  ],
  savings_plan: [
    "Usuario: Quiero empezar a ahorrar para un fondo de emergencia.",
    "Usuario: ¿Cuánto debería ahorrar cada mes para mi meta?",
    "Usuario: Me gustaría ahorrar para el viaje de fin de año.",
  ],
  payment_reminder: [
    "Usuario: ¿Cuándo vence la cuota de mi préstamo?",
    "Usuario: Se me olvidó pagar la tarjeta el mes pasado, ¿me avisas esta vez?",
    "Usuario: Quiero recordatorios antes de cada pago.",
  ],
  income_loss: [
    "Usuario: Me quedé sin trabajo la semana pasada y tengo cuotas pendientes.",
    "Usuario: Me redujeron las horas y ahora gano mucho menos.",
    "Usuario: Este mes no llegó la remesa de mi hermano y no me alcanza.",
  ],
};

const REPLIES: Record<CoachIntent, readonly string[]> = {
  debt_stress: [
    "Kami: Entiendo que es una situación difícil. Empecemos por listar tus deudas de la tasa más alta a la más baja.",
    "Kami: No estás solo en esto. Podemos ver juntos si conviene pedir una refinanciación a tu banco.",
  ],
  budgeting_help: [
    "Kami: Un buen punto de partida es separar gastos fijos, variables y ahorro. ¿Cuánto ganas al mes?",
    "Kami: Revisemos tus últimos 30 días: la comida fuera de casa parece ser tu mayor gasto variable.",
  ],
  savings_plan: [
    "Kami: Una meta razonable es juntar tres meses de gastos. Podemos empezar con un aporte pequeño el día de pago.",
    "Kami: Si apartas un 10 % cada quincena, llegarías a tu meta antes de lo que crees.",
  ],
  payment_reminder: [
    "Kami: Listo, te enviaré un recordatorio tres días antes de cada vencimiento.",
    "Kami: Tu próxima cuota vence pronto. ¿Quieres que te recuerde también el día anterior?",
  ],
  income_loss: [
    "Kami: Lamento mucho lo que pasó. Prioricemos vivienda, alimentación y servicios básicos este mes.",
    "Kami: Podemos preparar un mensaje para pedir a tu banco un periodo de gracia.",
  ],
};

const CLOSERS: readonly string[] = [
  "Usuario: Gracias, lo voy a intentar.",
  "Usuario: Ok, me ayuda mucho verlo así.",
  "Usuario: Está bien, hablamos la próxima semana.",
  "Usuario: No estoy seguro de poder, pero lo intentaré.",
];

export function coachTranscript(intent: CoachIntent, rng: Rng): string {
  return [rng.pick(OPENERS[intent]), rng.pick(REPLIES[intent]), rng.pick(CLOSERS)].join("\n");
}
