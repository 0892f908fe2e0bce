// Transaction references in plain words. The ledger keeps what identifies
// a movement to the gateway and the provider ("CARD sandbox sandbox_pay_…",
// "auto top-up stripe pi_…", "settled req_…", older "SMS x3 (svc_…)"); an
// account owner reads what happened instead ("Card payment", "Auto top-up
// by card", "SMS × 3"). What a person typed (a bank reference, an invoice
// number, an allocation note) is kept as it is, minus internal ids.

const methods = {
  CARD: 'Card',
  PAYPAL: 'PayPal',
  BANK_TRANSFER: 'Bank transfer',
  CRYPTO: 'Crypto',
  POSTPAID: 'Post-paid request',
  ONLINE: 'Online payment',
};

// An id of ours (a type prefix and 26 base32 characters, gid), the
// sandbox's payment references built on them, and providers' object ids
// (Stripe pi_…, seti_…, ch_…; long, with digits).
const internalId = /\b(?:sandbox_)?[a-z]{2,4}_[0-9a-z]{26}\b|\b(?:pi|ch|seti|pm|py|re|cus)_[0-9A-Za-z]{14,}\b/g;

function stripIds(s) {
  return s
    .replace(/\s*\(\s*(?:[a-z]{2,4}_[0-9a-z]{26})\s*\)/g, '') // "(svc_…)"
    .replace(internalId, '')
    .replace(/\s{2,}/g, ' ')
    .replace(/\s+([,.;:)])/g, '$1')
    .trim();
}

// quantity turns "SMS message x30" into "SMS message × 30".
function quantity(s) {
  return s.replace(/^(.*\S) x(\d+)$/, '$1 × $2');
}

// plainReference(kind, reference) is the reference of a transaction of
// that kind (TransactionKind) in plain words, "" when nothing is left.
export function plainReference(kind, reference) {
  const ref = String(reference || '').trim();
  if (!ref) return '';
  let m;
  switch (kind) {
    case 'PURCHASE':
      // "<METHOD> <provider> <provider ref>"
      if ((m = /^([A-Z_]+) \S+(?: \S+)?$/.exec(ref)) && methods[m[1]]) return `${methods[m[1]]} payment`;
      break;
    case 'AUTO_TOPUP':
      if (/^auto top-up\b/i.test(ref)) return 'Auto top-up by card';
      break;
    case 'SETTLEMENT':
      if (/^settled\b/.test(ref)) return 'Post-paid request paid';
      break;
    case 'REQUEST_APPROVED':
      // "<METHOD>[ <the client's reference>]"
      if ((m = /^([A-Z_]+)(?: (.*))?$/.exec(ref)) && methods[m[1]]) {
        const own = stripIds(m[2] || '');
        return own ? `${methods[m[1]]} ${own}` : methods[m[1]];
      }
      break;
    default:
  }
  return quantity(stripIds(ref));
}
