// Date-times the API accepts carry a UTC offset. A person types a wall-clock time in a time zone
// (theirs, or the event's); these turn one into the other with the browser's own time zone data.

export function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

function validZone(zone) {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return zone;
  } catch {
    return browserZone();
  }
}

// The zone's offset from UTC at an instant, in minutes (east positive).
function offsetMinutes(instant, zone) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: validZone(zone), hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(instant);
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60000);
}

function offsetText(minutes) {
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

export function offsetLabel(instant, zone) {
  return `UTC${offsetText(offsetMinutes(instant, zone))}`;
}

// "2026-12-01T09:00" (wall time in zone) -> "2026-12-01T09:00:00+01:00"
export function toOffsetIso(local, zone) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local);
  if (!match) return local; // let the API say what is wrong with it
  const [, y, mo, d, hh, mm, ss = "00"] = match;
  const wall = Date.UTC(+y, +mo - 1, +d, +hh, +mm, +ss);
  let offset = offsetMinutes(new Date(wall), zone);
  offset = offsetMinutes(new Date(wall - offset * 60000), zone); // the offset in force then
  return `${y}-${mo}-${d}T${hh}:${mm}:${ss}${offsetText(offset)}`;
}

// "2026-12-01T08:00:00Z" -> "2026-12-01T09:00" as shown in zone, for a datetime-local input.
export function localInput(iso, zone) {
  const instant = new Date(iso);
  if (Number.isNaN(instant.getTime())) return "";
  const shifted = new Date(instant.getTime() + offsetMinutes(instant, zone) * 60000);
  return shifted.toISOString().slice(0, 16);
}
