// SMS length as carriers count it: GSM-7 (160 septets, 153 per part when
// split; ^{}[~]\|€ take two) when every character allows it, else UCS-2
// (70 UTF-16 units, 67 per part). The same rule Herald applies (internal/sms).
const basic = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const extended = '^{}\\[~]|€\f';

/** smsLength returns {encoding, units, segments} of text. */
export function smsLength(text) {
  let septets = 0;
  let gsm = true;
  for (const ch of text) {
    if (basic.includes(ch)) septets += 1;
    else if (extended.includes(ch)) septets += 2;
    else { gsm = false; break; }
  }
  if (gsm) {
    return { encoding: 'GSM-7', units: septets, segments: septets === 0 ? 0 : septets <= 160 ? 1 : Math.ceil(septets / 153) };
  }
  const units = text.length; // UTF-16 code units
  return { encoding: 'UCS-2', units, segments: units <= 70 ? 1 : Math.ceil(units / 67) };
}
