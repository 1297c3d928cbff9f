// Formatting of what the API returns. Amounts are decimal strings ("1234.50"): they are
// shown as given, grouped by thousands as text, never through a float. Sums (per hospital on
// the patient's page) are exact integer fen (BigInt).

const AMOUNT = /^(\d+)(?:\.(\d{1,2}))?$/;
const RATE = /^(\d+)(?:\.(\d+))?$/;
const CHINA_OFFSET_MS = 8 * 3600 * 1000;

/** "1234567" -> "1,234,567" (a string of digits). */
export function groupDigits(digits) {
  let grouped = "";
  for (let index = 0; index < digits.length; index += 1) {
    const fromEnd = digits.length - index;
    grouped += digits[index];
    if (fromEnd > 1 && (fromEnd - 1) % 3 === 0) {
      grouped += ",";
    }
  }
  return grouped;
}

/** "1234567.50" -> "¥1,234,567.50"; anything else is shown as it came. */
export function money(text) {
  const match = AMOUNT.exec(String(text));
  if (!match) {
    return String(text);
  }
  const fraction = (match[2] || "").padEnd(2, "0");
  return `¥${groupDigits(match[1])}.${fraction}`;
}

/** A rate or count exactly as the API gives it. */
export function rate(text) {
  return String(text);
}

/** A count: digits grouped. */
export function count(number) {
  return groupDigits(String(number));
}

/** "123.45" -> 12345n. */
export function fen(text) {
  const match = AMOUNT.exec(String(text));
  if (!match) {
    return 0n;
  }
  return BigInt(match[1]) * 100n + BigInt((match[2] || "").padEnd(2, "0"));
}

/** 12345n -> "123.45". */
export function fromFen(value) {
  const whole = value / 100n;
  const cents = value % 100n;
  return `${whole}.${cents.toString().padStart(2, "0")}`;
}

/** The exact sum of amounts (decimal strings) as a decimal string. */
export function sumAmounts(amounts) {
  return fromFen(amounts.reduce((total, amount) => total + fen(amount), 0n));
}

/** A rate string ("0.012500") in millionths (12500n), for chart geometry only. */
export function millionths(text) {
  const match = RATE.exec(String(text));
  if (!match) {
    return 0n;
  }
  const fraction = (match[2] || "").padEnd(6, "0").slice(0, 6);
  return BigInt(match[1]) * 1000000n + BigInt(fraction);
}

function two(number) {
  return String(number).padStart(2, "0");
}

function chinaParts(iso) {
  const instant = new Date(iso);
  if (Number.isNaN(instant.getTime())) {
    return null;
  }
  const shifted = new Date(instant.getTime() + CHINA_OFFSET_MS);
  return {
    date: `${shifted.getUTCFullYear()}-${two(shifted.getUTCMonth() + 1)}-${two(shifted.getUTCDate())}`,
    time: `${two(shifted.getUTCHours())}:${two(shifted.getUTCMinutes())}`,
  };
}

/** An RFC 3339 instant as "YYYY-MM-DD HH:MM" in China Standard Time (UTC+8). */
export function dateTime(iso) {
  if (!iso) {
    return "—";
  }
  const parts = chinaParts(iso);
  return parts ? `${parts.date} ${parts.time}` : String(iso);
}

/** An RFC 3339 instant as "YYYY-MM-DD" in China Standard Time. */
export function day(iso) {
  if (!iso) {
    return "—";
  }
  const parts = chinaParts(iso);
  return parts ? parts.date : String(iso);
}

/** Today (or `daysBack` days before) in China Standard Time, "YYYY-MM-DD". */
export function chinaToday(daysBack = 0) {
  const parts = chinaParts(new Date(Date.now() - daysBack * 86400 * 1000).toISOString());
  return parts.date;
}
