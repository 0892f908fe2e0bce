/* eslint-disable */
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type Maybe<T> = T | null;
export type InputMaybe<T> = T | null | undefined;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /**
   * An exact decimal amount as a JSON string, e.g. `"12.50"`; never a JSON number
   * or float. Input: a plain decimal (`"12"`, `"12.5"`, `"0.0075"`), greater than
   * zero where an amount is asked for, no exponent, sign or `NaN`, else
   * `BAD_USER_INPUT`. Credit amounts (balances, service prices and rates,
   * allocations, thresholds) are exact to 6 fraction digits in every currency;
   * money that moves through a payment provider (a purchase's amount, a
   * package's price, an invoice, a monthly cap) has at most its currency's ISO
   * 4217 fraction digits (USD 2, JPY 0, BHD 3). Output has the currency's
   * fraction digits, and more only when the amount has them: `"12.50"`,
   * `"12.4925"`, `"1200"` in JPY. See docs/api.md#decimal.
   */
  Decimal: { input: string; output: string; }
  /**
   * A point in time: an RFC 3339 string in UTC with up to nanosecond precision,
   * e.g. `"2026-12-04T09:30:00.123456Z"`. Input accepts any RFC 3339 offset.
   */
  Time: { input: string; output: string; }
};

/** An account of an agency that holds credits: one balance per currency. */
export type Account = Node & {
  __typename?: 'Account';
  /** The agency the account belongs to. */
  agency: Agency;
  /** The account's auto top-up rules, one per currency (empty on a pool). Owners, their agency's admins (read only) and system admins; `FORBIDDEN` to `CLIENT` and `SERVICE`. */
  autoTopUps: Array<AutoTopUp>;
  /** The account's balance in one currency; one that never moved reads `"0.00"`. `BAD_USER_INPUT` for a malformed currency. */
  balance: Balance;
  /** Every balance of the account, one per currency it has ever held (a currency that never moved is absent). */
  balances: Array<Balance>;
  /** Where invoices are e-mailed; null: nowhere (the agency sends them by hand). */
  billingEmail: Maybe<Scalars['String']['output']>;
  /**
   * Whether the viewer may buy credits for this account now, and why not
   * (`CREDIT_PAYMENTS_DISABLED`, `ROLE_NOT_ALLOWED`). The portal shows or hides
   * "Buy credits" from this, never from its own copy of the rules.
   */
  canBuyCredits: CreditAvailability;
  /** The account's saved cards (empty on a pool). Owners, their agency's admins (read only) and system admins; `FORBIDDEN` to `CLIENT` and `SERVICE`. */
  cards: Array<Card>;
  /** The account's holds, newest first. `SERVICE` needs `BALANCES_READ`. */
  holds: HoldConnection;
  /** Opaque global ID (`acc_…`): the `account_id` claim of a client's tokens, and the `accountId` of operations. */
  id: Scalars['ID']['output'];
  /** A client account or the agency's pool. */
  kind: AccountKind;
  /** The account's low-balance alerts, one per currency (empty on a pool). Owners, their agency's admins and system admins; `FORBIDDEN` to `CLIENT` and `SERVICE`. */
  lowBalanceAlerts: Array<LowBalanceAlert>;
  /** Display name. */
  name: Scalars['String']['output'];
};


/** An account of an agency that holds credits: one balance per currency. */
export type AccountBalanceArgs = {
  currency?: InputMaybe<Scalars['String']['input']>;
};


/** An account of an agency that holds credits: one balance per currency. */
export type AccountHoldsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<HoldStatus>;
};

/** A page of accounts (Relay cursor connection). */
export type AccountConnection = {
  __typename?: 'AccountConnection';
  /** The accounts of this page, each with its cursor. */
  edges: Array<AccountEdge>;
  /** Whether more pages follow, and the cursors to reach them. */
  pageInfo: PageInfo;
  /** How many accounts the whole list has, over all pages. */
  totalCount: Scalars['Int']['output'];
};

/** One account of a page, with its cursor. */
export type AccountEdge = {
  __typename?: 'AccountEdge';
  /** Opaque position of this account in the list, for `after`. */
  cursor: Scalars['String']['output'];
  /** The account. */
  node: Account;
};

/** What an account is for. */
export type AccountKind =
  /** The agency's own pool account, from which it allocates credits to its clients; one per agency. */
  | 'AGENCY'
  /** A client (advertiser) account: buys, receives and spends credits. */
  | 'CLIENT';

/** Input of `addCard`. */
export type AddCardInput = {
  /** The client account the card is for; default: the owner's account. A system admin must name one. */
  accountId?: InputMaybe<Scalars['ID']['input']>;
  /**
   * The confirmed payment method: Stripe `pm_…`; the sandbox's test cards are
   * `pm_card_visa`, `pm_card_mastercard`, `pm_card_chargeDeclined` (always
   * declines) and `pm_card_chargeDeclinedInsufficientFunds`.
   */
  paymentMethodId: Scalars['String']['input'];
};

/** The answer of `addCard`. */
export type AddCardPayload = {
  __typename?: 'AddCardPayload';
  /** The saved card. */
  card: Card;
};

/** Input of `adjustBalance`. */
export type AdjustBalanceInput = {
  /** A client account of the viewer's agency (system admins: any account). */
  accountId: Scalars['ID']['input'];
  /** A positive credit amount. */
  amount: Scalars['Decimal']['input'];
  /** ISO 4217 code; default: the agency's default currency. */
  currency?: InputMaybe<Scalars['String']['input']>;
  /** Makes a retry safe: the same key and input answer the first result. */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  /** Why (required, up to 1000 characters); shown in history. */
  reason: Scalars['String']['input'];
  /** `IN` adds, `OUT` removes (never below zero: `INSUFFICIENT_CREDITS`). */
  type: TransactionType;
};

/** An agency (partner): owns a pool account and client accounts, services, credit packages and API keys. */
export type Agency = Node & {
  __typename?: 'Agency';
  /** The agency's accounts within the viewer's scope, pool included, oldest first. `BAD_USER_INPUT` for `first` over 100 or a bad cursor; `FORBIDDEN` to `SERVICE` viewers. */
  accounts: AccountConnection;
  /** Printed on `CREDIT_TOPUP` invoices; null when not set. */
  bankDetails: Maybe<Scalars['String']['output']>;
  /** Whether the agency's clients may buy credits and spend them on invoices and services; while false those are `CREDIT_PAYMENTS_DISABLED` (metered usage, holds and auto top-up go on). */
  creditPaymentsEnabled: Scalars['Boolean']['output'];
  /** ISO 4217 code (e.g. `USD`) used wherever a `currency` argument or input field is omitted. Default `USD`. */
  defaultCurrency: Scalars['String']['output'];
  /** Opaque global ID (`agy_…`): the `agency_id` claim of the agency's tokens. */
  id: Scalars['ID']['output'];
  /** Days from issue to due date of new `CREDIT_TOPUP` invoices. */
  invoiceDueDays: Scalars['Int']['output'];
  /** Display name. */
  name: Scalars['String']['output'];
  /** The agency's pool account (kind `AGENCY`). Not for `SERVICE` viewers (`FORBIDDEN`). */
  poolAccount: Account;
  /** Accepted `POSTPAID` credit not yet paid, per currency (agency and system admins; empty for others). */
  unpaidPostpaid: Array<CurrencyAmount>;
};


/** An agency (partner): owns a pool account and client accounts, services, credit packages and API keys. */
export type AgencyAccountsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** Input of `allocateCredits`. */
export type AllocateCreditsInput = {
  /** The credits to move from the pool: a credit amount greater than zero, up to 6 fraction digits; `INSUFFICIENT_CREDITS` when the pool does not cover it. */
  amount: Scalars['Decimal']['input'];
  /** ISO 4217 code of `amount`; default: the agency's `defaultCurrency`. */
  currency?: InputMaybe<Scalars['String']['input']>;
  /** Retry safely: the same key with the same input returns the first answer and moves nothing; with other input it is `CONFLICT`. Scope: the viewer. */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  /** A note shown in both accounts' history. */
  reference?: InputMaybe<Scalars['String']['input']>;
  /** The client account (`acc_…`) of the agency to credit; `NOT_FOUND` outside the viewer's agency. */
  toAccountId: Scalars['ID']['input'];
};

/** The answer of `allocateCredits`. */
export type AllocateCreditsPayload = {
  __typename?: 'AllocateCreditsPayload';
  /** The client account's balance after the allocation. */
  balance: Balance;
  /** The agency pool's balance after the allocation. */
  poolBalance: Balance;
  /** The IN transaction (`ALLOCATION`) on the client account. */
  transaction: CreditTransaction;
};

/**
 * A service credential, sent as `Authorization: Bearer <secret>`. Only the
 * secret's SHA-256 is stored; the secret is shown once, by `createApiKey`.
 */
export type ApiKey = Node & {
  __typename?: 'ApiKey';
  /** The agency whose accounts it acts on; null: platform-wide (created by a system admin). */
  agency: Maybe<Agency>;
  /** When it was created. */
  createdAt: Scalars['Time']['output'];
  /** The `sub` of the admin who created it. */
  createdBy: Scalars['String']['output'];
  /** Opaque global ID (`key_…`), for `revokeApiKey`; the viewer's `userId` is `apikey:<id>`. */
  id: Scalars['ID']['output'];
  /** When it was last used; may lag by a minute; null when never. */
  lastUsedAt: Maybe<Scalars['Time']['output']>;
  /** What the key is for, e.g. `"SMS sender"`. */
  name: Scalars['String']['output'];
  /** The first characters of the secret (`cgk_…`), to recognise it; never the secret. */
  prefix: Scalars['String']['output'];
  /** When it was revoked (then `UNAUTHENTICATED` on every gateway instance within a second); null while valid. */
  revokedAt: Maybe<Scalars['Time']['output']>;
  /** What it may do. */
  scopes: Array<ApiKeyScope>;
};

/**
 * What a `SERVICE` viewer holding an API key may do (a service token has
 * every scope); anything outside its scopes is `FORBIDDEN`.
 */
export type ApiKeyScope =
  /** `balance`, `balances`, `holds`, `services` and `balanceUpdated` of the key's agency's accounts (with an `accountId`). */
  | 'BALANCES_READ'
  /** `createHold`, `captureHold`, `releaseHold`. */
  | 'HOLDS_WRITE'
  /** `recordUsage`. */
  | 'USAGE_WRITE';

/** One state change: who did what, to what, from where. */
export type AuditEvent = Node & {
  __typename?: 'AuditEvent';
  /** The account it concerns, if one. */
  account: Maybe<Account>;
  /** The mutation or job, e.g. `"approveRequest"`, `"autoTopUp"`, `"stripeWebhook"`. */
  action: Scalars['String']['output'];
  /** Who: a user's `sub`, `"apikey:<id>"` or `"system"`. */
  actor: Scalars['String']['output'];
  /** The agency it concerns; null for platform-wide changes. */
  agency: Maybe<Agency>;
  /** When it happened (the change's commit). */
  at: Scalars['Time']['output'];
  /** The client's address; null for jobs and webhooks without one. */
  clientAddress: Maybe<Scalars['String']['output']>;
  /** Opaque global ID (`aud_…`). */
  id: Scalars['ID']['output'];
  /** The gateway's request id (in its logs); null for jobs. */
  requestId: Maybe<Scalars['String']['output']>;
  /** The actor's role; null for the system. */
  role: Maybe<Role>;
  /** What happened in a line, e.g. `"approved req_… 200.00 USD"`. */
  summary: Scalars['String']['output'];
  /** The request, invoice, transaction, rule … acted on. */
  targetId: Maybe<Scalars['ID']['output']>;
};

/** A page of audit events, newest first. */
export type AuditEventConnection = {
  __typename?: 'AuditEventConnection';
  /** The events of this page. */
  edges: Array<AuditEventEdge>;
  /** Where this page sits. */
  pageInfo: PageInfo;
  /** How many events match, over all pages. */
  totalCount: Scalars['Int']['output'];
};

/** An audit event and its cursor. */
export type AuditEventEdge = {
  __typename?: 'AuditEventEdge';
  /** Pass as `after` to continue after this event. */
  cursor: Scalars['String']['output'];
  /** The event. */
  node: AuditEvent;
};

/**
 * Buys credits with a saved card when a debit takes the available balance of
 * one currency below the threshold. Each top-up is an `AUTO_TOPUP` IN
 * transaction and fires `balanceUpdated`. One rule per account and currency.
 */
export type AutoTopUp = Node & {
  __typename?: 'AutoTopUp';
  /** `FIXED`: what each top-up buys; `TOP_UP_TO`: the balance to reach. Provider money, in the currency's fraction digits. */
  amount: Scalars['Decimal']['output'];
  /** The saved card it charges; null once that card was removed. */
  card: Maybe<Card>;
  /** Declines in a row; three pause the rule. */
  consecutiveFailures: Scalars['Int']['output'];
  /** ISO 4217 code of the balance it watches. */
  currency: Scalars['String']['output'];
  /** Whether its owner has it switched on. */
  enabled: Scalars['Boolean']['output'];
  /** Opaque global ID (`atu_…`). */
  id: Scalars['ID']['output'];
  /** The last failed charge; null when there was none. */
  lastFailure: Maybe<AutoTopUpFailure>;
  /** When it last bought credits; null when never. */
  lastTopUpAt: Maybe<Scalars['Time']['output']>;
  /** Fixed amount, or top up to a balance. */
  mode: AutoTopUpMode;
  /** At most this much is charged per calendar month (UTC); null: no cap. Provider money. */
  monthlyCap: Maybe<Scalars['Decimal']['output']>;
  /** Why it was paused, in plain words; null unless `PAUSED`. */
  pauseReason: Maybe<Scalars['String']['output']>;
  /** When it was paused; null unless `PAUSED`. */
  pausedAt: Maybe<Scalars['Time']['output']>;
  /** When a backing-off rule tries again; null otherwise. */
  retryAfter: Maybe<Scalars['Time']['output']>;
  /** What it has charged in the current calendar month (UTC). Provider money. */
  spentThisMonth: Scalars['Decimal']['output'];
  /** Armed, backing off, paused or disabled. */
  status: AutoTopUpStatus;
  /** A debit that takes `available` below this starts a top-up: a credit amount, up to 6 fraction digits. */
  threshold: Scalars['Decimal']['output'];
  /** When the rule or its state last changed. */
  updatedAt: Scalars['Time']['output'];
};

/** The last declined or failed auto top-up charge. */
export type AutoTopUpFailure = {
  __typename?: 'AutoTopUpFailure';
  /** When it failed. */
  at: Scalars['Time']['output'];
  /** Why, in the provider's words (e.g. `"card declined"`). */
  reason: Scalars['String']['output'];
};

/** How much an auto top-up buys. */
export type AutoTopUpMode =
  /** Buy `amount` each time. */
  | 'FIXED'
  /** Buy what lifts the balance to `amount` (charged to the currency's next minor unit). */
  | 'TOP_UP_TO';

/** Where an auto top-up rule stands. */
export type AutoTopUpStatus =
  /** Armed: a debit below the threshold starts a top-up. */
  | 'ACTIVE'
  /** The last charge was declined; the next try is at `retryAfter` (an hour later). */
  | 'BACKING_OFF'
  /** Turned off by its owner (`enabled: false`). */
  | 'DISABLED'
  /** Stopped after three declines in a row, a runaway (three top-ups within ten minutes) or a removed card (`pauseReason`); saving the rule again resumes it. */
  | 'PAUSED';

/** The credits an account holds in one currency. */
export type Balance = {
  __typename?: 'Balance';
  /** The account the balance belongs to. */
  account: Account;
  /** The credits the account may spend now (`total` less `held`): a credit amount, exact to 6 fraction digits (`"12.50"`, `"12.4925"`); never negative; `"0.00"` when it never moved. */
  available: Scalars['Decimal']['output'];
  /** ISO 4217 code, e.g. `USD`. */
  currency: Scalars['String']['output'];
  /** Credits set aside by `ACTIVE` holds: not available, not yet spent. */
  held: Scalars['Decimal']['output'];
  /** Refunds and disputes the balance could not cover (a credit amount); paid first from the next credits in. */
  owed: Scalars['Decimal']['output'];
  /** How long `available` lasts at the average daily spend of the last 30 days; null when nothing was spent. */
  runway: Maybe<Runway>;
  /** `available` + `held`: what the ledger holds; history's `runningBalance` chains on it. */
  total: Scalars['Decimal']['output'];
  /** When the balance last changed. */
  updatedAt: Scalars['Time']['output'];
};

/**
 * Input of `buyCredits`: a package or a custom amount, and how it is paid.
 * Exactly one of `packageId` and `amount` (else `BAD_USER_INPUT`).
 */
export type BuyCreditsInput = {
  /** The account credited; default: the viewer's account (an agency admin's pool). A system admin must name one. */
  accountId?: InputMaybe<Scalars['ID']['input']>;
  /** Or buy this custom amount: credited and charged as is; provider money, at most the currency's fraction digits, greater than zero. */
  amount?: InputMaybe<Scalars['Decimal']['input']>;
  /** One-time top-up: charge this saved card of the account (`method: CARD`); `COMPLETED` or `FAILED` at once. The owner or a system admin only (an agency admin gets `FORBIDDEN`). */
  cardId?: InputMaybe<Scalars['ID']['input']>;
  /** ISO 4217 code of `amount`; default: the agency's `defaultCurrency`. Ignored with `packageId`. */
  currency?: InputMaybe<Scalars['String']['input']>;
  /** Retry safely: the same key with the same input returns the first answer and moves nothing; with other input it is `CONFLICT`. Scope: the viewer. */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  /** How it is paid: `CARD` and `PAYPAL` are instant; the others create a credit request. */
  method: PaymentMethod;
  /** Buy this credit package: credits its `credits` and charges its `price`. */
  packageId?: InputMaybe<Scalars['ID']['input']>;
  /** The buyer's reference: a quotation number, bank reference or wallet transaction hash; shown to the agency. */
  reference?: InputMaybe<Scalars['String']['input']>;
};

/** The answer of `buyCredits`. */
export type BuyCreditsPayload = {
  __typename?: 'BuyCreditsPayload';
  /** The account's balance in the purchase's currency after the purchase. */
  balance: Balance;
  /** The provider's payment; set for `CARD` and `PAYPAL`. */
  payment: Maybe<Payment>;
  /** The credit request; set when `PENDING_APPROVAL` (or `COMPLETED` for an agency admin's `POSTPAID` purchase for a client). */
  request: Maybe<CreditRequest>;
  /** What happened: credited now, waiting for the buyer, waiting for the agency, or declined. */
  status: PurchaseStatus;
  /** The IN transaction; set when `COMPLETED`. */
  transaction: Maybe<CreditTransaction>;
};

/** Input of `buyServiceWithCredit`. */
export type BuyServiceWithCreditInput = {
  /** The account charged; default: the viewer's account. A system admin must name one. */
  accountId?: InputMaybe<Scalars['ID']['input']>;
  /** Retry safely: the same key with the same input returns the first answer and moves nothing; with other input it is `CONFLICT`. Scope: the viewer. */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  /** Units to buy, at least 1; default 1. Charged `price` × `quantity` exactly. */
  quantity?: InputMaybe<Scalars['Int']['input']>;
  /** The service (`svc_…`) of the account's agency; `NOT_FOUND` otherwise. */
  serviceId: Scalars['ID']['input'];
};

/** The answer of `buyServiceWithCredit`. */
export type BuyServiceWithCreditPayload = {
  __typename?: 'BuyServiceWithCreditPayload';
  /** The account's balance in the service's currency after the purchase. */
  balance: Balance;
  /** The OUT transaction (`SERVICE_PURCHASE`). */
  transaction: CreditTransaction;
};

/** Charges a hold: a `USAGE` transaction taken from its remainder. */
export type CaptureHoldInput = {
  /** The amount to charge; default: all that remains. More than remains: `INSUFFICIENT_CREDITS`. */
  amount?: InputMaybe<Scalars['Decimal']['input']>;
  /** True: the rest is released and the hold is `CAPTURED`; false: it stays `ACTIVE` for more captures. */
  final?: InputMaybe<Scalars['Boolean']['input']>;
  /** The `ACTIVE` hold. */
  holdId: Scalars['ID']['input'];
  /** A retry with the same key returns the first capture and charges nothing more. */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  /** Of the `USAGE` transaction; default the hold's reference. */
  reference?: InputMaybe<Scalars['String']['input']>;
};

/**
 * A card on file, kept by the provider (Stripe: a PaymentMethod on a
 * Customer). Only what identifies it to its owner is stored. Charged only on
 * its owner's instruction (one-time top-up, auto top-up).
 */
export type Card = Node & {
  __typename?: 'Card';
  /** The card's brand, e.g. `"visa"`, `"mastercard"`. */
  brand: Scalars['String']['output'];
  /** When it was saved. */
  createdAt: Scalars['Time']['output'];
  /** Expiry month, 1 to 12. */
  expMonth: Scalars['Int']['output'];
  /** Expiry year, four digits. */
  expYear: Scalars['Int']['output'];
  /** Opaque global ID (`crd_…`), for `BuyCreditsInput.cardId` and `SetAutoTopUpInput.cardId`. */
  id: Scalars['ID']['output'];
  /** The last four digits of the card number. */
  last4: Scalars['String']['output'];
  /** The provider that keeps it: `"stripe"` or `"sandbox"`. */
  provider: Scalars['String']['output'];
};

/**
 * What the browser needs to confirm a new card with the provider (Stripe.js
 * `confirmCardSetup` with `clientSecret`), before `addCard` saves it.
 */
export type CardSetup = {
  __typename?: 'CardSetup';
  /** The SetupIntent's client secret, for Stripe.js; never stored. */
  clientSecret: Scalars['String']['output'];
  /** The provider: `"stripe"` or `"sandbox"`. */
  provider: Scalars['String']['output'];
  /** The provider's SetupIntent id (`seti_…`). */
  setupIntentId: Scalars['String']['output'];
};

/** The answer of a correction. */
export type CorrectionPayload = {
  __typename?: 'CorrectionPayload';
  /** The account's balance right after it. */
  balance: Balance;
  /** Reversing an `INVOICE_PAYMENT`: the invoice, `OPEN` again. */
  invoice: Maybe<Invoice>;
  /** `refundPayment`: the payment, with `refunded` updated. */
  payment: Maybe<Payment>;
  /** `reclaimCredits`: the pool's balance right after it. */
  poolBalance: Maybe<Balance>;
  /** The `ADJUSTMENT`, `ALLOCATION` (OUT), `REVERSAL` or `REFUND` on the account. */
  transaction: CreditTransaction;
};

/** Input of `createAccount`: a new client account. */
export type CreateAccountInput = {
  /** The agency; default: the agency admin's own. A system admin must name one. */
  agencyId?: InputMaybe<Scalars['ID']['input']>;
  /** Display name. */
  name: Scalars['String']['input'];
};

/** Input of `createAgency` (system admins only). */
export type CreateAgencyInput = {
  /** Whether its clients may buy and spend credits; default true. */
  creditPaymentsEnabled?: InputMaybe<Scalars['Boolean']['input']>;
  /** ISO 4217 code used where a currency is omitted; default `USD`. */
  defaultCurrency?: InputMaybe<Scalars['String']['input']>;
  /** Display name. */
  name: Scalars['String']['input'];
};

/** Input of `createApiKey`. */
export type CreateApiKeyInput = {
  /** The agency whose accounts the key acts on; default: the agency admin's own. A system admin may omit it for a platform-wide key. */
  agencyId?: InputMaybe<Scalars['ID']['input']>;
  /** What the key is for; shown in lists. */
  name: Scalars['String']['input'];
  /** What it may do; at least one (else `BAD_USER_INPUT`). */
  scopes: Array<ApiKeyScope>;
};

/** The answer of `createApiKey`. */
export type CreateApiKeyPayload = {
  __typename?: 'CreateApiKeyPayload';
  /** The new key. */
  apiKey: ApiKey;
  /** The secret (`cgk_…`), shown this once and never again; sent as `Authorization: Bearer <secret>`. */
  secret: Scalars['String']['output'];
};

/** Input of `createCreditPackage`. */
export type CreateCreditPackageInput = {
  /** The agency; default: the agency admin's own. A system admin must name one. */
  agencyId?: InputMaybe<Scalars['ID']['input']>;
  /** The credits it adds: greater than zero, up to 6 fraction digits. */
  credits: Scalars['Decimal']['input'];
  /** ISO 4217 code of `credits` and `price`; default: the agency's `defaultCurrency`. */
  currency?: InputMaybe<Scalars['String']['input']>;
  /** Display name. */
  name: Scalars['String']['input'];
  /** What the buyer pays: provider money, greater than zero, at most the currency's fraction digits. */
  price: Scalars['Decimal']['input'];
};

/** Sets credits aside: either `amount` (with `currency`) or a service's rate x `quantity`. */
export type CreateHoldInput = {
  /** The account whose available credits are held. */
  accountId: Scalars['ID']['input'];
  /** The amount to hold, up to 6 fraction digits; not with `serviceId`. */
  amount?: InputMaybe<Scalars['Decimal']['input']>;
  /** ISO 4217 code of `amount`; default: the agency's currency. */
  currency?: InputMaybe<Scalars['String']['input']>;
  /** Seconds until it expires: 60 s to 30 days (2592000); default 3600. */
  expiresInSeconds?: InputMaybe<Scalars['Int']['input']>;
  /** A retry with the same key returns the first hold and holds nothing more. */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  /** Units of the service; default 1. */
  quantity?: InputMaybe<Scalars['Int']['input']>;
  /** The caller's reference, up to 500 characters; captures use it by default. */
  reference?: InputMaybe<Scalars['String']['input']>;
  /** Hold the service's rate x `quantity`, in the service's currency; not with `amount`. */
  serviceId?: InputMaybe<Scalars['ID']['input']>;
  /** Picks the service's rate; absent or unknown: the default rate. */
  variant?: InputMaybe<Scalars['String']['input']>;
};

/** Input of `createInvoice`. */
export type CreateInvoiceInput = {
  /** The client account billed (`acc_…`) of the viewer's agency. */
  accountId: Scalars['ID']['input'];
  /** The amount due: provider money, greater than zero, at most the currency's fraction digits. */
  amount: Scalars['Decimal']['input'];
  /** Whether it may be paid with credits; default true. */
  creditEligible?: InputMaybe<Scalars['Boolean']['input']>;
  /** ISO 4217 code; default: the agency's `defaultCurrency`. */
  currency?: InputMaybe<Scalars['String']['input']>;
  /** The agency's invoice number, shown to the client. */
  number: Scalars['String']['input'];
};

/** Input of `createService`. */
export type CreateServiceInput = {
  /** The agency; default: the agency admin's own. A system admin must name one. */
  agencyId?: InputMaybe<Scalars['ID']['input']>;
  /** Whether it may be bought with credits; default true. */
  creditEligible?: InputMaybe<Scalars['Boolean']['input']>;
  /** ISO 4217 code; default: the agency's `defaultCurrency`. */
  currency?: InputMaybe<Scalars['String']['input']>;
  /** Display name. */
  name: Scalars['String']['input'];
  /** The default rate: credits per unit, greater than zero, up to 6 fraction digits. */
  price: Scalars['Decimal']['input'];
};

/** Input of `createWebhookEndpoint`. */
export type CreateWebhookEndpointInput = {
  /** The agency (system admins; absent: platform-wide); agency admins: their own, the default. */
  agencyId?: InputMaybe<Scalars['ID']['input']>;
  /** What it is for. */
  description?: InputMaybe<Scalars['String']['input']>;
  /** The events to send; absent or empty: every event. */
  events?: InputMaybe<Array<WebhookEventType>>;
  /** An `https` URL (in production; private and loopback addresses are refused unless configured). */
  url: Scalars['String']['input'];
};

/** Whether the viewer may do something with credits now, and why not: computed by the gateway so that a front end never copies the rules. */
export type CreditAvailability = {
  __typename?: 'CreditAvailability';
  /** True when the operation would be accepted now (it can still fail if the balance changes in between). */
  available: Scalars['Boolean']['output'];
  /** Why not; null when available. */
  reason: Maybe<CreditUnavailableReason>;
};

/** A bundle of credits an agency sells at a price (e.g. 110 credits for 100.00). */
export type CreditPackage = Node & {
  __typename?: 'CreditPackage';
  /** The credits added to the balance: a credit amount, exact to 6 fraction digits. */
  credits: Scalars['Decimal']['output'];
  /** ISO 4217 code of `credits` and `price`. */
  currency: Scalars['String']['output'];
  /** Opaque global ID (`pkg_…`), for `BuyCreditsInput.packageId`. */
  id: Scalars['ID']['output'];
  /** Display name. */
  name: Scalars['String']['output'];
  /** What the buyer pays: provider money, in the currency's fraction digits. */
  price: Scalars['Decimal']['output'];
};

/**
 * A purchase by bank transfer, crypto or post-paid that waits for review:
 * the agency's admins review their clients' requests, a system admin reviews
 * an agency's requests for its pool. Nobody reviews a request they submitted.
 */
export type CreditRequest = Node & {
  __typename?: 'CreditRequest';
  /** The account to be credited. */
  account: Account;
  /** The credits asked for (provider money: the currency's fraction digits). */
  amount: Scalars['Decimal']['output'];
  /** When it was submitted. */
  createdAt: Scalars['Time']['output'];
  /** ISO 4217 code of `amount`. */
  currency: Scalars['String']['output'];
  /** Opaque global ID (`req_…`), for `approveRequest`, `rejectRequest` and `markRequestPaid`. */
  id: Scalars['ID']['output'];
  /** The `CREDIT_TOPUP` invoice issued for it; null for requests made before invoices existed. */
  invoice: Maybe<Invoice>;
  /** How the buyer pays: `BANK_TRANSFER`, `CRYPTO` or `POSTPAID`. */
  method: PaymentMethod;
  /** Whether the agency has the money: false for an accepted `POSTPAID` request until `markRequestPaid`; true for an accepted `BANK_TRANSFER` or `CRYPTO` request. */
  paid: Scalars['Boolean']['output'];
  /** The buyer's reference (bank reference, wallet transaction hash, quotation number); null when none was given. */
  reference: Maybe<Scalars['String']['output']>;
  /** Why it was rejected; null unless `REJECTED` with a reason. */
  rejectionReason: Maybe<Scalars['String']['output']>;
  /** When it was approved or rejected; null while pending. */
  reviewedAt: Maybe<Scalars['Time']['output']>;
  /** The `sub` of the reviewer; null while pending. */
  reviewedBy: Maybe<Scalars['String']['output']>;
  /** Pending, accepted or rejected. */
  status: CreditRequestStatus;
  /** The `sub` of the user who submitted it, who may not review it. */
  submittedBy: Scalars['String']['output'];
  /** The IN transaction, once accepted; null otherwise. */
  transaction: Maybe<CreditTransaction>;
};

/** A page of credit requests, newest first (Relay cursor connection). */
export type CreditRequestConnection = {
  __typename?: 'CreditRequestConnection';
  /** The requests of this page, each with its cursor. */
  edges: Array<CreditRequestEdge>;
  /** Whether more pages follow, and the cursors to reach them. */
  pageInfo: PageInfo;
  /** How many requests match the query, over all pages. */
  totalCount: Scalars['Int']['output'];
};

/** One credit request of a page, with its cursor. */
export type CreditRequestEdge = {
  __typename?: 'CreditRequestEdge';
  /** Opaque position of this request in the list, for `after`. */
  cursor: Scalars['String']['output'];
  /** The request. */
  node: CreditRequest;
};

/** The answer of `approveRequest`, `rejectRequest` and `markRequestPaid`. */
export type CreditRequestPayload = {
  __typename?: 'CreditRequestPayload';
  /** The requested account's balance in the request's currency, after the change. */
  balance: Balance;
  /** The request after the change. */
  request: CreditRequest;
};

/** Where a credit request stands. */
export type CreditRequestStatus =
  /** Approved: the account was credited in the same transaction (`transaction`). */
  | 'ACCEPTED'
  /** Waiting for review; nothing credited. */
  | 'PENDING'
  /** Declined (`rejectionReason`); nothing credited. */
  | 'REJECTED';

/**
 * One movement of one account's balance in one currency, committed with the
 * change it records. History is newest first; for one account and currency,
 * each `runningBalance` is the previous one's plus (IN) or minus (OUT) `amount`.
 */
export type CreditTransaction = Node & {
  __typename?: 'CreditTransaction';
  /** The account whose balance moved. */
  account: Account;
  /** Who caused it: a user's `sub`, `"apikey:<id>"`, or `"system"` (auto top-up, webhooks). */
  actor: Scalars['String']['output'];
  /** The credits moved: a credit amount, exact to 6 fraction digits, always positive (`type` says the direction). */
  amount: Scalars['Decimal']['output'];
  /** When it was committed. */
  createdAt: Scalars['Time']['output'];
  /** ISO 4217 code of `amount` and `runningBalance`. */
  currency: Scalars['String']['output'];
  /** `USAGE` captured from a hold: that hold; null otherwise. */
  hold: Maybe<Hold>;
  /** Opaque global ID (`txn_…`); a replayed idempotent mutation answers the same one. */
  id: Scalars['ID']['output'];
  /** Why it happened. */
  kind: TransactionKind;
  /** `PURCHASE`, `AUTO_TOPUP`, `REFUND`: the provider payment. */
  payment: Maybe<Payment>;
  /** `USAGE` and `SERVICE_PURCHASE`: the units bought; null otherwise. */
  quantity: Maybe<Scalars['Int']['output']>;
  /** `ADJUSTMENT`, `REVERSAL`, `REFUND` and reclaims: why; null when none was given. */
  reason: Maybe<Scalars['String']['output']>;
  /** What it is about in plain words: the invoice number, the service and quantity, the caller's reference; `""` when there is none. */
  reference: Scalars['String']['output'];
  /** Set once this transaction has been reversed: the `REVERSAL`. */
  reversedBy: Maybe<CreditTransaction>;
  /** `REVERSAL`: the transaction it undoes. */
  reverses: Maybe<CreditTransaction>;
  /** The account's balance in this currency right after this transaction (a credit amount). */
  runningBalance: Scalars['Decimal']['output'];
  /** `USAGE` and `SERVICE_PURCHASE`: the service bought; null otherwise. */
  service: Maybe<Service>;
  /** IN or OUT, from the account's point of view. */
  type: TransactionType;
  /** `USAGE`: the rate used, e.g. the SMS destination `"SG"`; null for the default rate and other kinds. */
  variant: Maybe<Scalars['String']['output']>;
};

/** A page of transactions, newest first (Relay cursor connection). */
export type CreditTransactionConnection = {
  __typename?: 'CreditTransactionConnection';
  /** The transactions of this page, each with its cursor. */
  edges: Array<CreditTransactionEdge>;
  /** Whether more pages follow, and the cursors to reach them. */
  pageInfo: PageInfo;
  /** How many transactions match the query, over all pages. */
  totalCount: Scalars['Int']['output'];
};

/** One transaction of a page, with its cursor. */
export type CreditTransactionEdge = {
  __typename?: 'CreditTransactionEdge';
  /** Opaque position of this transaction in the list, for `after`. */
  cursor: Scalars['String']['output'];
  /** The transaction. */
  node: CreditTransaction;
};

/** Why an offer to pay or buy with credits is not available; each is also the error code the operation would return. */
export type CreditUnavailableReason =
  /** The invoice is not open. */
  | 'ALREADY_PAID'
  /** The agency has turned credit payments off. */
  | 'CREDIT_PAYMENTS_DISABLED'
  /** The available balance is lower than the amount. */
  | 'INSUFFICIENT_CREDITS'
  /** This service or invoice cannot be paid with credits (`creditEligible: false`, or a top-up invoice). */
  | 'NOT_ELIGIBLE'
  /** The viewer's role may not do this here (a plain `CLIENT` buying credits, an agency admin charging an owner's card); the operation would be `FORBIDDEN`. */
  | 'ROLE_NOT_ALLOWED';

/** An amount in one currency. */
export type CurrencyAmount = {
  __typename?: 'CurrencyAmount';
  /** The amount, in the currency's fraction digits (more when it has them). */
  amount: Scalars['Decimal']['output'];
  /** ISO 4217 code. */
  currency: Scalars['String']['output'];
};

/**
 * Credits of one balance set aside for a charge to come (a campaign, an OTP in
 * flight): while `ACTIVE`, `remaining` counts in the balance's `held`, not in
 * its `available`, so no payment can spend it. Captures are `USAGE`
 * transactions; a final capture, `releaseHold` or expiry gives the rest back.
 */
export type Hold = Node & {
  __typename?: 'Hold';
  /** The account whose credits are held. */
  account: Account;
  /** Set aside when created. */
  amount: Scalars['Decimal']['output'];
  /** Spent from it so far, by its captures. */
  captured: Scalars['Decimal']['output'];
  /** When it was created. */
  createdAt: Scalars['Time']['output'];
  /** ISO 4217 code of the held balance. */
  currency: Scalars['String']['output'];
  /** When it expires if still `ACTIVE`. */
  expiresAt: Scalars['Time']['output'];
  /** Opaque global ID (`hld_…`). */
  id: Scalars['ID']['output'];
  /** The creator's reference, if any. */
  reference: Maybe<Scalars['String']['output']>;
  /** `amount` - `captured` while `ACTIVE`, else `"0"`. */
  remaining: Scalars['Decimal']['output'];
  /** Where it stands. */
  status: HoldStatus;
  /** Its captures (`USAGE` transactions), oldest first. */
  transactions: Array<CreditTransaction>;
};

/** A page of holds, newest first. */
export type HoldConnection = {
  __typename?: 'HoldConnection';
  /** The holds of this page. */
  edges: Array<HoldEdge>;
  /** Where this page is in the list. */
  pageInfo: PageInfo;
  /** How many holds the whole list has. */
  totalCount: Scalars['Int']['output'];
};

/** One hold of a page. */
export type HoldEdge = {
  __typename?: 'HoldEdge';
  /** Pass as `after` to read on from this hold. */
  cursor: Scalars['String']['output'];
  /** The hold. */
  node: Hold;
};

/** The answer of `createHold`, `captureHold` and `releaseHold`. */
export type HoldPayload = {
  __typename?: 'HoldPayload';
  /** The account's balance in the hold's currency right after it. */
  balance: Balance;
  /** The hold as the operation left it. */
  hold: Hold;
  /** `captureHold`: the `USAGE` transaction; null otherwise. */
  transaction: Maybe<CreditTransaction>;
};

/** Where a hold stands. */
export type HoldStatus =
  /** The amount is set aside: not available, not yet spent. */
  | 'ACTIVE'
  /** Finished by a final capture; the uncaptured rest went back to available. */
  | 'CAPTURED'
  /** Reached `expiresAt` while active; the rest went back to available (within a minute, on any instance, once). */
  | 'EXPIRED'
  /** Given back whole or in part by `releaseHold`. */
  | 'RELEASED';

/** An invoice the agency issued to a client account. */
export type Invoice = Node & {
  __typename?: 'Invoice';
  /** The account billed. */
  account: Account;
  /** The amount due: provider money, in the currency's fraction digits. */
  amount: Scalars['Decimal']['output'];
  /** Whether the agency accepts credits for it. */
  creditEligible: Scalars['Boolean']['output'];
  /** ISO 4217 code of `amount`. */
  currency: Scalars['String']['output'];
  /** A printable HTML invoice: a link that works without a token, cannot be guessed, and expires (ask again for a fresh one). */
  documentUrl: Scalars['String']['output'];
  /** When it is due; null when no due date was set. */
  dueAt: Maybe<Scalars['Time']['output']>;
  /** Opaque global ID (`inv_…`), for `payInvoiceWithCredit`. */
  id: Scalars['ID']['output'];
  /** When it was issued. */
  issuedAt: Scalars['Time']['output'];
  /** What it bills. */
  kind: InvoiceKind;
  /** The agency's invoice number, e.g. `"INV-1001"`. */
  number: Scalars['String']['output'];
  /** When it was paid; null while open or void. */
  paidAt: Maybe<Scalars['Time']['output']>;
  /** Whether the viewer may pay it with credits now, and why not (`ALREADY_PAID`, `NOT_ELIGIBLE`, `CREDIT_PAYMENTS_DISABLED`, `INSUFFICIENT_CREDITS`). */
  payWithCredit: CreditAvailability;
  /** Paid online: the provider payment. */
  payment: Maybe<Payment>;
  /** `CREDIT_TOPUP`: the credit request it bills. */
  request: Maybe<CreditRequest>;
  /** The e-mail address it was last sent to; null when never sent. */
  sentTo: Maybe<Scalars['String']['output']>;
  /** Open, paid or void. */
  status: InvoiceStatus;
  /** The OUT transaction, when paid with credits; null otherwise. */
  transaction: Maybe<CreditTransaction>;
  /** Why it was voided; null unless `VOID`. */
  voidReason: Maybe<Scalars['String']['output']>;
};

/** A page of invoices, newest first (Relay cursor connection). */
export type InvoiceConnection = {
  __typename?: 'InvoiceConnection';
  /** The invoices of this page, each with its cursor. */
  edges: Array<InvoiceEdge>;
  /** Whether more pages follow, and the cursors to reach them. */
  pageInfo: PageInfo;
  /** How many invoices match the query, over all pages. */
  totalCount: Scalars['Int']['output'];
};

/** One invoice of a page, with its cursor. */
export type InvoiceEdge = {
  __typename?: 'InvoiceEdge';
  /** Opaque position of this invoice in the list, for `after`. */
  cursor: Scalars['String']['output'];
  /** The invoice. */
  node: Invoice;
};

/** What an invoice bills. */
export type InvoiceKind =
  /** What the client owes the agency for its work; payable with credits when eligible. */
  | 'CHARGE'
  /** Issued for a credit request (bank transfer, crypto, online, post-paid); never payable with credits. */
  | 'CREDIT_TOPUP';

/** Where an invoice stands. */
export type InvoiceStatus =
  /** Due: may be paid (with credits when `payWithCredit.available`). */
  | 'OPEN'
  /** Open past its due date (read only; paying it works as for `OPEN`). */
  | 'OVERDUE'
  /** Paid (`paidAt`); paying again is `ALREADY_PAID`. */
  | 'PAID'
  /** Cancelled; nothing is due. */
  | 'VOID';

/** Emails when the available balance of one currency falls below a threshold. One per account and currency. */
export type LowBalanceAlert = Node & {
  __typename?: 'LowBalanceAlert';
  /** ISO 4217 code of the balance it watches. */
  currency: Scalars['String']['output'];
  /** Where the alert goes. */
  email: Scalars['String']['output'];
  /** Whether it is switched on. */
  enabled: Scalars['Boolean']['output'];
  /** Opaque global ID (`alr_…`). */
  id: Scalars['ID']['output'];
  /** When the last email went out; null when never. */
  lastSentAt: Maybe<Scalars['Time']['output']>;
  /** When the balance went below the threshold; null unless `LOW`. */
  lowSince: Maybe<Scalars['Time']['output']>;
  /** When the balance came back up; null unless `RECOVERED`. */
  recoveredAt: Maybe<Scalars['Time']['output']>;
  /** OK, low or recovered. */
  state: LowBalanceAlertState;
  /** Below this `available` is low: a credit amount, up to 6 fraction digits. */
  threshold: Scalars['Decimal']['output'];
  /** When the alert or its state last changed. */
  updatedAt: Scalars['Time']['output'];
};

/** Where a low-balance alert stands. */
export type LowBalanceAlertState =
  /** Below it: emailed, and again at most once a day while it stays low. */
  | 'LOW'
  /** Not below the threshold since the alert was set. */
  | 'OK'
  /** Back at or above it after being low. */
  | 'RECOVERED';

/** Input of `markRequestPaid`: settles an accepted `POSTPAID` request (the agency received the money). */
export type MarkRequestPaidInput = {
  /** The accepted, unpaid `POSTPAID` request (`req_…`); `CONFLICT` when it is not one. */
  requestId: Scalars['ID']['input'];
};

/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type Mutation = {
  __typename?: 'Mutation';
  /** Saves a confirmed card to a client account. The owner or a system admin (`FORBIDDEN` to agency admins); `BAD_USER_INPUT` (unknown or unusable payment method), `NOT_FOUND`, `UNAVAILABLE`. */
  addCard: AddCardPayload;
  /** Corrects a balance (`ADJUSTMENT`) with a reason: agency admins for their client accounts, system admins for any. */
  adjustBalance: CorrectionPayload;
  /**
   * Moves credits from the agency's pool to one of its client accounts, in one
   * transaction. Agency admins (own agency), system admins. Errors:
   * `FORBIDDEN`, `NOT_FOUND`, `BAD_USER_INPUT`, `INSUFFICIENT_CREDITS` (the
   * pool), `CONFLICT`.
   */
  allocateCredits: AllocateCreditsPayload;
  /**
   * Accepts a pending credit request and credits the account in the same
   * transaction. Agency admins review their clients' requests; only a system
   * admin reviews an agency's pool requests; nobody reviews a request they
   * submitted (`FORBIDDEN`). Errors: `FORBIDDEN`, `NOT_FOUND`, `CONFLICT`
   * (already reviewed).
   */
  approveRequest: CreditRequestPayload;
  /**
   * Buys credits for an account: by card or PayPal (`COMPLETED` with the
   * sandbox, `REQUIRES_ACTION` with a real provider, `FAILED` when a saved card
   * is declined), or by bank transfer, crypto or post-paid (`PENDING_APPROVAL`:
   * a credit request). Owners (own account), agency admins (own agency, pool
   * included), system admins. Errors: `FORBIDDEN`, `NOT_FOUND`,
   * `BAD_USER_INPUT`, `CREDIT_PAYMENTS_DISABLED`, `CONFLICT`, `UNAVAILABLE`.
   */
  buyCredits: BuyCreditsPayload;
  /**
   * Buys `quantity` units of a service with credits (`price` × `quantity`,
   * exactly). Clients and owners (own account), agency admins (own agency),
   * system admins. Errors: `NOT_FOUND`, `BAD_USER_INPUT`, `NOT_ELIGIBLE`,
   * `CREDIT_PAYMENTS_DISABLED`, `INSUFFICIENT_CREDITS`, `CONFLICT`.
   */
  buyServiceWithCredit: BuyServiceWithCreditPayload;
  /**
   * Charges a hold as a `USAGE` transaction (out of `held`; `runningBalance` is
   * the total after it). `CONFLICT` when the hold is not `ACTIVE`,
   * `INSUFFICIENT_CREDITS` when its remainder does not cover the amount.
   * `SERVICE` needs `HOLDS_WRITE`; client roles are `FORBIDDEN`.
   */
  captureHold: HoldPayload;
  /** Creates a client account in an agency. Agency admins (own agency), system admins; `BAD_USER_INPUT`, `NOT_FOUND`. */
  createAccount: Account;
  /** Creates an agency with its pool account. System admins only (`FORBIDDEN` otherwise); `BAD_USER_INPUT` for a bad name or currency. */
  createAgency: Agency;
  /** Creates an API key and answers its secret, once. Agency admins (own agency), system admins (one agency or platform-wide); `BAD_USER_INPUT`, `NOT_FOUND`. */
  createApiKey: CreateApiKeyPayload;
  /** Creates a credit package. Agency admins (own agency), system admins; `BAD_USER_INPUT`, `NOT_FOUND`. */
  createCreditPackage: CreditPackage;
  /**
   * Sets credits of an account aside (`available` down, `held` up, `total`
   * unchanged). `INSUFFICIENT_CREDITS` when `available` does not cover it;
   * `NOT_ELIGIBLE` for a service not payable with credits. `SERVICE` needs
   * `HOLDS_WRITE`; client roles are `FORBIDDEN`.
   */
  createHold: HoldPayload;
  /** Issues an open invoice to a client account. Agency admins (own agency), system admins; `BAD_USER_INPUT`, `NOT_FOUND`. */
  createInvoice: Invoice;
  /** Creates a service sold for credits. Agency admins (own agency), system admins; `BAD_USER_INPUT`, `NOT_FOUND`. */
  createService: Service;
  /** Adds a webhook endpoint; the answer shows its secret once. */
  createWebhookEndpoint: WebhookSecretPayload;
  /**
   * Records that an accepted `POSTPAID` request was paid (`paid: true`).
   * Agency admins (own agency), system admins. Errors: `FORBIDDEN`,
   * `NOT_FOUND`, `CONFLICT` (not an accepted, unpaid `POSTPAID` request).
   */
  markRequestPaid: CreditRequestPayload;
  /** Pays an invoice online by card or PayPal; a `CREDIT_TOPUP` invoice's request is accepted and credited when the payment succeeds. */
  payInvoice: PayInvoicePayload;
  /**
   * Pays a whole open invoice with credits, or nothing (of two racing payments
   * the loser gets `ALREADY_PAID`). Clients and owners (own account), agency
   * admins (own agency), system admins. Errors: `NOT_FOUND`, `ALREADY_PAID`,
   * `NOT_ELIGIBLE`, `CREDIT_PAYMENTS_DISABLED`, `INSUFFICIENT_CREDITS`,
   * `CONFLICT`.
   */
  payInvoiceWithCredit: PayInvoiceWithCreditPayload;
  /** Moves credits from a client account back to its agency's pool (`ALLOCATION`, OUT on the client). */
  reclaimCredits: CorrectionPayload;
  /**
   * Metered usage: 1 to 1,000 events, each charged (rate × quantity, as one
   * `USAGE` transaction) or refused on its own (`UsageResult.error`); results
   * in the order of the events. Not stopped by the agency's credit-payments
   * switch. `SERVICE` viewers need `USAGE_WRITE`; agency admins (accounts of
   * own agency), system admins; client roles get `FORBIDDEN`. The whole call
   * is `BAD_USER_INPUT` for no events or more than 1,000.
   */
  recordUsage: RecordUsagePayload;
  /** Sends a delivery again, now, with the same `webhook-id`. */
  redeliverWebhook: WebhookDelivery;
  /** Refunds a payment through its provider, taking its credits back first (`REFUND`); `INSUFFICIENT_CREDITS` when they are spent. */
  refundPayment: CorrectionPayload;
  /**
   * Declines a pending credit request, with an optional reason; nothing is
   * credited. Same reviewers as `approveRequest`. Errors: `FORBIDDEN`,
   * `NOT_FOUND`, `CONFLICT` (already reviewed).
   */
  rejectRequest: CreditRequestPayload;
  /**
   * Gives what remains of a hold back to available and ends it `RELEASED`.
   * `CONFLICT` when it is not `ACTIVE`. `SERVICE` needs `HOLDS_WRITE`; client
   * roles are `FORBIDDEN`.
   */
  releaseHold: HoldPayload;
  /** Removes a saved card (a rule that used it pauses). The owner or a system admin; `NOT_FOUND`. */
  removeCard: RemoveCardPayload;
  /**
   * Undoes a transaction once (`CONFLICT` the second time); an `INVOICE_PAYMENT`
   * reversed reopens its invoice. A `SERVICE` key may reverse the `USAGE` its
   * agency recorded (scope `USAGE_WRITE`).
   */
  reverseTransaction: CorrectionPayload;
  /** Revokes an API key on every gateway instance within a second; revoking it again answers it unchanged. Agency admins (own agency's keys), system admins; `NOT_FOUND`. */
  revokeApiKey: ApiKey;
  /** Replaces a webhook endpoint's secret at once; the answer shows the new one once. */
  rotateWebhookSecret: WebhookSecretPayload;
  /** E-mails an invoice (default: to the account's `billingEmail`). */
  sendInvoice: Invoice;
  /** Creates or replaces the account's auto top-up rule for a currency; tops up at once if the balance is already below the threshold. The owner or a system admin (`FORBIDDEN` to agency admins); `BAD_USER_INPUT`, `NOT_FOUND`. */
  setAutoTopUp: SetAutoTopUpPayload;
  /** Creates or replaces the account's low-balance alert for a currency. Owners, agency admins (accounts of own agency), system admins; `BAD_USER_INPUT`, `NOT_FOUND`. */
  setLowBalanceAlert: SetLowBalanceAlertPayload;
  /** Replaces a service's rate card (and its unit). Agency admins (own agency's services) and system admins; `FORBIDDEN` otherwise, `BAD_USER_INPUT` for a bad rate. */
  setServiceRates: Service;
  /** Starts saving a card: a provider SetupIntent for the browser to confirm, then `addCard`. The owner or a system admin (`FORBIDDEN` to agency admins); `NOT_FOUND`, `UNAVAILABLE`. */
  startCardSetup: CardSetup;
  /** Changes an agency's settings (credit payments on/off, default currency). Agency admins (own agency), system admins; `BAD_USER_INPUT`, `NOT_FOUND`. */
  updateAgencySettings: Agency;
  /** Sets the agency's invoice terms and bank details, or an account's billing e-mail. */
  updateBilling: Agency;
  /** Changes a webhook endpoint's URL, description, events, or turns it on or off. */
  updateWebhookEndpoint: WebhookEndpoint;
  /** Voids an open invoice (a `CREDIT_TOPUP` invoice's pending request is rejected with it). */
  voidInvoice: Invoice;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationAddCardArgs = {
  input: AddCardInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationAdjustBalanceArgs = {
  input: AdjustBalanceInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationAllocateCreditsArgs = {
  input: AllocateCreditsInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationApproveRequestArgs = {
  input: ReviewRequestInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationBuyCreditsArgs = {
  input: BuyCreditsInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationBuyServiceWithCreditArgs = {
  input: BuyServiceWithCreditInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationCaptureHoldArgs = {
  input: CaptureHoldInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationCreateAccountArgs = {
  input: CreateAccountInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationCreateAgencyArgs = {
  input: CreateAgencyInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationCreateApiKeyArgs = {
  input: CreateApiKeyInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationCreateCreditPackageArgs = {
  input: CreateCreditPackageInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationCreateHoldArgs = {
  input: CreateHoldInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationCreateInvoiceArgs = {
  input: CreateInvoiceInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationCreateServiceArgs = {
  input: CreateServiceInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationCreateWebhookEndpointArgs = {
  input: CreateWebhookEndpointInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationMarkRequestPaidArgs = {
  input: MarkRequestPaidInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationPayInvoiceArgs = {
  input: PayInvoiceInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationPayInvoiceWithCreditArgs = {
  input: PayInvoiceWithCreditInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationReclaimCreditsArgs = {
  input: ReclaimCreditsInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationRecordUsageArgs = {
  input: RecordUsageInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationRedeliverWebhookArgs = {
  input: RedeliverWebhookInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationRefundPaymentArgs = {
  input: RefundPaymentInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationRejectRequestArgs = {
  input: ReviewRequestInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationReleaseHoldArgs = {
  input: ReleaseHoldInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationRemoveCardArgs = {
  input: RemoveCardInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationReverseTransactionArgs = {
  input: ReverseTransactionInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationRevokeApiKeyArgs = {
  input: RevokeApiKeyInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationRotateWebhookSecretArgs = {
  input: RotateWebhookSecretInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationSendInvoiceArgs = {
  input: SendInvoiceInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationSetAutoTopUpArgs = {
  input: SetAutoTopUpInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationSetLowBalanceAlertArgs = {
  input: SetLowBalanceAlertInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationSetServiceRatesArgs = {
  input: SetServiceRatesInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationStartCardSetupArgs = {
  input: StartCardSetupInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationUpdateAgencySettingsArgs = {
  input: UpdateAgencySettingsInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationUpdateBillingArgs = {
  input: UpdateBillingInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationUpdateWebhookEndpointArgs = {
  input: UpdateWebhookEndpointInput;
};


/**
 * Writes. A failed mutation changes nothing. Money-moving mutations take an
 * `idempotencyKey`: a retry with the same key and input returns the first
 * answer and moves nothing. Every one may also answer `UNAUTHENTICATED`,
 * `RATE_LIMITED` (retry after `extensions.retryAfter`), `UNAVAILABLE` (nothing
 * was done; retry) and `INTERNAL` (outcome unknown: retry only with the same
 * `idempotencyKey`). Errors: docs/api.md#errors.
 */
export type MutationVoidInvoiceArgs = {
  input: VoidInvoiceInput;
};

/** An object that `Query.node(id:)` can fetch again by its opaque global ID. */
export type Node = {
  /** Opaque global ID, prefixed by the type (`acc_…`, `req_…`, `inv_…`); stable, never reused. */
  id: Scalars['ID']['output'];
};

/** Where a page of a connection stands (Relay cursor connections); pages go forward with `first` and `after`. */
export type PageInfo = {
  __typename?: 'PageInfo';
  /** The cursor of the last edge of this page, for the next page's `after`; null when the page is empty. */
  endCursor: Maybe<Scalars['String']['output']>;
  /** Whether a page follows this one: pass `endCursor` as `after` to get it. */
  hasNextPage: Scalars['Boolean']['output'];
  /** Whether this page was reached with `after` (pages go forward only). */
  hasPreviousPage: Scalars['Boolean']['output'];
  /** The cursor of the first edge of this page; null when the page is empty. */
  startCursor: Maybe<Scalars['String']['output']>;
};

/** Input of `payInvoice`. */
export type PayInvoiceInput = {
  /** `CARD`: a saved card to charge at once; default: a new payment confirmed in the browser. */
  cardId?: InputMaybe<Scalars['ID']['input']>;
  /** Makes a retry safe: the same key and input answer the first result. */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  /** An `OPEN` or `OVERDUE` invoice. */
  invoiceId: Scalars['ID']['input'];
  /** `CARD` or `PAYPAL`. */
  method: PaymentMethod;
};

/** The answer of `payInvoice`. */
export type PayInvoicePayload = {
  __typename?: 'PayInvoicePayload';
  /** The invoice, `PAID` once the payment succeeded. */
  invoice: Invoice;
  /** The provider payment. */
  payment: Payment;
  /** `CREDIT_TOPUP`: the request, `ACCEPTED` once paid. */
  request: Maybe<CreditRequest>;
  /** `COMPLETED`, `REQUIRES_ACTION` (confirm with the provider) or `FAILED`. */
  status: PurchaseStatus;
};

/** Input of `payInvoiceWithCredit`. */
export type PayInvoiceWithCreditInput = {
  /** Retry safely: the same key with the same input returns the first answer and moves nothing; with other input it is `CONFLICT`. Scope: the viewer. */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  /** The open invoice (`inv_…`) of an account in the viewer's scope; `NOT_FOUND` otherwise. */
  invoiceId: Scalars['ID']['input'];
};

/** The answer of `payInvoiceWithCredit`. */
export type PayInvoiceWithCreditPayload = {
  __typename?: 'PayInvoiceWithCreditPayload';
  /** The account's balance in the invoice's currency after the payment. */
  balance: Balance;
  /** The invoice, now `PAID`. */
  invoice: Invoice;
  /** The OUT transaction (`INVOICE_PAYMENT`) of the whole amount. */
  transaction: CreditTransaction;
};

/** A payment through a provider for a `CARD` or `PAYPAL` purchase. */
export type Payment = Node & {
  __typename?: 'Payment';
  /** The amount charged: provider money, in the currency's fraction digits. */
  amount: Scalars['Decimal']['output'];
  /** PayPal: where the payer approves the order; null for other providers. */
  approvalUrl: Maybe<Scalars['String']['output']>;
  /** Stripe: the PaymentIntent's client secret, to confirm with Stripe.js; null for other providers. */
  clientSecret: Maybe<Scalars['String']['output']>;
  /** ISO 4217 code of `amount`. */
  currency: Scalars['String']['output'];
  /** Why it failed; null unless `FAILED`. */
  failureReason: Maybe<Scalars['String']['output']>;
  /** Opaque global ID (`pay_…`): the provider's idempotency key and its metadata `creditgate_payment` / `custom_id`. */
  id: Scalars['ID']['output'];
  /** The provider: `"stripe"`, `"paypal"` or `"sandbox"` (the built-in one of development). */
  provider: Scalars['String']['output'];
  /** The provider's id of the payment (a Stripe PaymentIntent `pi_…`, a PayPal order id). */
  providerRef: Scalars['String']['output'];
  /** What was refunded so far (provider money, like `amount`). */
  refunded: Scalars['Decimal']['output'];
  /** `PENDING` (waiting for the buyer or the webhook), `SUCCEEDED` (credited) or `FAILED` (nothing credited). */
  status: Scalars['String']['output'];
};

/** How credits are paid for. */
export type PaymentMethod =
  /** Manual: creates a credit request; the agency approves it on receipt of the transfer. */
  | 'BANK_TRANSFER'
  /** Instant: through the card provider (Stripe, or the sandbox); credits added once the payment succeeds. With `cardId`, a saved card is charged at once. */
  | 'CARD'
  /** Manual: creates a credit request; the agency approves it on receipt of the payment. */
  | 'CRYPTO'
  /** Manual: a `CREDIT_TOPUP` invoice is issued with the request and paid online (`payInvoice`); credited when the payment succeeds. */
  | 'ONLINE'
  /** Instant: through PayPal; credits added once the payer approves and the capture succeeds. */
  | 'PAYPAL'
  /** Manual: a credit request on a post-paid arrangement; credited on approval, `paid: false` until `markRequestPaid`. */
  | 'POSTPAID';

/** The outcome of `buyCredits`. */
export type PurchaseStatus =
  /** The credits are on the balance now: `transaction` is set. */
  | 'COMPLETED'
  /** The payment was declined; nothing was credited. */
  | 'FAILED'
  /** A credit request was created and waits for the agency (`request` is set); nothing was credited yet. */
  | 'PENDING_APPROVAL'
  /** The buyer must confirm the payment with the provider (`payment.clientSecret` with Stripe.js, or `payment.approvalUrl` for PayPal); the credits land when the provider's webhook confirms. */
  | 'REQUIRES_ACTION';

/**
 * Reads. Every one needs a token (`UNAUTHENTICATED` otherwise) and sees only
 * the viewer's scope: a client its own account, an agency admin its agency's
 * accounts, a system admin everything, a `SERVICE` its agency's accounts (all
 * agencies for a platform-wide key). Objects outside the scope are
 * `NOT_FOUND`. `accountId` defaults to the viewer's account (a client's own,
 * an agency admin's pool); a system admin and a `SERVICE` must name one
 * (`BAD_USER_INPUT`).
 */
export type Query = {
  __typename?: 'Query';
  /** An agency: `NOT_FOUND` outside the viewer's scope. `FORBIDDEN` to `SERVICE`. */
  agency: Maybe<Agency>;
  /** API keys: an agency admin's agency's keys; a system admin's of the named agency, or every key. Revoked keys are listed with `revokedAt`. */
  apiKeys: Array<ApiKey>;
  /** The audit log, newest first: agency admins their agency's, system admins everything. */
  auditLog: AuditEventConnection;
  /** An account's auto top-up rules, one per currency. Owners, their agency's admins (read only), system admins. */
  autoTopUps: Array<AutoTopUp>;
  /** One balance of an account; `"0.00"` when that currency never moved. `SERVICE` needs `BALANCES_READ`. */
  balance: Balance;
  /** Every balance of an account, one per currency that has moved. `SERVICE` needs `BALANCES_READ`. */
  balances: Array<Balance>;
  /** An account's saved cards. Owners, their agency's admins (read only), system admins. */
  cards: Array<Card>;
  /** The credit packages on sale to the viewer's agency. `FORBIDDEN` to `SERVICE`. */
  creditPackages: Array<CreditPackage>;
  /** An account's transactions in one currency, newest first, each with its running balance. `BAD_USER_INPUT` for `first` over 100 or a bad cursor; `FORBIDDEN` to `SERVICE`. */
  history: CreditTransactionConnection;
  /**
   * Holds, newest first: of the account named, else every hold the viewer may
   * see (client roles: their account's). `SERVICE` needs `BALANCES_READ`.
   */
  holds: HoldConnection;
  /** Invoices, newest first. `BAD_USER_INPUT` for `first` over 100 or a bad cursor; `FORBIDDEN` to `SERVICE`. */
  invoices: InvoiceConnection;
  /** An account's low-balance alerts, one per currency. Owners, their agency's admins, system admins. */
  lowBalanceAlerts: Array<LowBalanceAlert>;
  /** Any object by its global ID. `NOT_FOUND` when it does not exist or is outside the viewer's scope (no hint which); `FORBIDDEN` to `SERVICE`. */
  node: Maybe<Node>;
  /** Credit requests, newest first. `BAD_USER_INPUT` for `first` over 100 or a bad cursor; `FORBIDDEN` to `SERVICE`. */
  requests: CreditRequestConnection;
  /** The services of the account's agency, oldest first, with what the account can buy of each. `SERVICE` needs `BALANCES_READ`. */
  services: Array<Service>;
  /** A monthly statement of one balance. */
  statement: Statement;
  /** Who the token says the caller is, with its agency and default account. Every role. */
  viewer: Viewer;
  /** Webhook endpoints: agency admins their agency's, system admins every one (or one agency's). */
  webhookEndpoints: WebhookEndpointConnection;
};


/**
 * Reads. Every one needs a token (`UNAUTHENTICATED` otherwise) and sees only
 * the viewer's scope: a client its own account, an agency admin its agency's
 * accounts, a system admin everything, a `SERVICE` its agency's accounts (all
 * agencies for a platform-wide key). Objects outside the scope are
 * `NOT_FOUND`. `accountId` defaults to the viewer's account (a client's own,
 * an agency admin's pool); a system admin and a `SERVICE` must name one
 * (`BAD_USER_INPUT`).
 */
export type QueryAgencyArgs = {
  id?: InputMaybe<Scalars['ID']['input']>;
};


/**
 * Reads. Every one needs a token (`UNAUTHENTICATED` otherwise) and sees only
 * the viewer's scope: a client its own account, an agency admin its agency's
 * accounts, a system admin everything, a `SERVICE` its agency's accounts (all
 * agencies for a platform-wide key). Objects outside the scope are
 * `NOT_FOUND`. `accountId` defaults to the viewer's account (a client's own,
 * an agency admin's pool); a system admin and a `SERVICE` must name one
 * (`BAD_USER_INPUT`).
 */
export type QueryApiKeysArgs = {
  agencyId?: InputMaybe<Scalars['ID']['input']>;
};


/**
 * Reads. Every one needs a token (`UNAUTHENTICATED` otherwise) and sees only
 * the viewer's scope: a client its own account, an agency admin its agency's
 * accounts, a system admin everything, a `SERVICE` its agency's accounts (all
 * agencies for a platform-wide key). Objects outside the scope are
 * `NOT_FOUND`. `accountId` defaults to the viewer's account (a client's own,
 * an agency admin's pool); a system admin and a `SERVICE` must name one
 * (`BAD_USER_INPUT`).
 */
export type QueryAuditLogArgs = {
  accountId?: InputMaybe<Scalars['ID']['input']>;
  action?: InputMaybe<Scalars['String']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
  agencyId?: InputMaybe<Scalars['ID']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


/**
 * Reads. Every one needs a token (`UNAUTHENTICATED` otherwise) and sees only
 * the viewer's scope: a client its own account, an agency admin its agency's
 * accounts, a system admin everything, a `SERVICE` its agency's accounts (all
 * agencies for a platform-wide key). Objects outside the scope are
 * `NOT_FOUND`. `accountId` defaults to the viewer's account (a client's own,
 * an agency admin's pool); a system admin and a `SERVICE` must name one
 * (`BAD_USER_INPUT`).
 */
export type QueryAutoTopUpsArgs = {
  accountId?: InputMaybe<Scalars['ID']['input']>;
};


/**
 * Reads. Every one needs a token (`UNAUTHENTICATED` otherwise) and sees only
 * the viewer's scope: a client its own account, an agency admin its agency's
 * accounts, a system admin everything, a `SERVICE` its agency's accounts (all
 * agencies for a platform-wide key). Objects outside the scope are
 * `NOT_FOUND`. `accountId` defaults to the viewer's account (a client's own,
 * an agency admin's pool); a system admin and a `SERVICE` must name one
 * (`BAD_USER_INPUT`).
 */
export type QueryBalanceArgs = {
  accountId?: InputMaybe<Scalars['ID']['input']>;
  currency?: InputMaybe<Scalars['String']['input']>;
};


/**
 * Reads. Every one needs a token (`UNAUTHENTICATED` otherwise) and sees only
 * the viewer's scope: a client its own account, an agency admin its agency's
 * accounts, a system admin everything, a `SERVICE` its agency's accounts (all
 * agencies for a platform-wide key). Objects outside the scope are
 * `NOT_FOUND`. `accountId` defaults to the viewer's account (a client's own,
 * an agency admin's pool); a system admin and a `SERVICE` must name one
 * (`BAD_USER_INPUT`).
 */
export type QueryBalancesArgs = {
  accountId?: InputMaybe<Scalars['ID']['input']>;
};


/**
 * Reads. Every one needs a token (`UNAUTHENTICATED` otherwise) and sees only
 * the viewer's scope: a client its own account, an agency admin its agency's
 * accounts, a system admin everything, a `SERVICE` its agency's accounts (all
 * agencies for a platform-wide key). Objects outside the scope are
 * `NOT_FOUND`. `accountId` defaults to the viewer's account (a client's own,
 * an agency admin's pool); a system admin and a `SERVICE` must name one
 * (`BAD_USER_INPUT`).
 */
export type QueryCardsArgs = {
  accountId?: InputMaybe<Scalars['ID']['input']>;
};


/**
 * Reads. Every one needs a token (`UNAUTHENTICATED` otherwise) and sees only
 * the viewer's scope: a client its own account, an agency admin its agency's
 * accounts, a system admin everything, a `SERVICE` its agency's accounts (all
 * agencies for a platform-wide key). Objects outside the scope are
 * `NOT_FOUND`. `accountId` defaults to the viewer's account (a client's own,
 * an agency admin's pool); a system admin and a `SERVICE` must name one
 * (`BAD_USER_INPUT`).
 */
export type QueryCreditPackagesArgs = {
  currency?: InputMaybe<Scalars['String']['input']>;
};


/**
 * Reads. Every one needs a token (`UNAUTHENTICATED` otherwise) and sees only
 * the viewer's scope: a client its own account, an agency admin its agency's
 * accounts, a system admin everything, a `SERVICE` its agency's accounts (all
 * agencies for a platform-wide key). Objects outside the scope are
 * `NOT_FOUND`. `accountId` defaults to the viewer's account (a client's own,
 * an agency admin's pool); a system admin and a `SERVICE` must name one
 * (`BAD_USER_INPUT`).
 */
export type QueryHistoryArgs = {
  accountId?: InputMaybe<Scalars['ID']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
  currency?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  from?: InputMaybe<Scalars['Time']['input']>;
  kind?: InputMaybe<Array<TransactionKind>>;
  to?: InputMaybe<Scalars['Time']['input']>;
  type?: InputMaybe<TransactionType>;
};


/**
 * Reads. Every one needs a token (`UNAUTHENTICATED` otherwise) and sees only
 * the viewer's scope: a client its own account, an agency admin its agency's
 * accounts, a system admin everything, a `SERVICE` its agency's accounts (all
 * agencies for a platform-wide key). Objects outside the scope are
 * `NOT_FOUND`. `accountId` defaults to the viewer's account (a client's own,
 * an agency admin's pool); a system admin and a `SERVICE` must name one
 * (`BAD_USER_INPUT`).
 */
export type QueryHoldsArgs = {
  accountId?: InputMaybe<Scalars['ID']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<HoldStatus>;
};


/**
 * Reads. Every one needs a token (`UNAUTHENTICATED` otherwise) and sees only
 * the viewer's scope: a client its own account, an agency admin its agency's
 * accounts, a system admin everything, a `SERVICE` its agency's accounts (all
 * agencies for a platform-wide key). Objects outside the scope are
 * `NOT_FOUND`. `accountId` defaults to the viewer's account (a client's own,
 * an agency admin's pool); a system admin and a `SERVICE` must name one
 * (`BAD_USER_INPUT`).
 */
export type QueryInvoicesArgs = {
  accountId?: InputMaybe<Scalars['ID']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<InvoiceStatus>;
};


/**
 * Reads. Every one needs a token (`UNAUTHENTICATED` otherwise) and sees only
 * the viewer's scope: a client its own account, an agency admin its agency's
 * accounts, a system admin everything, a `SERVICE` its agency's accounts (all
 * agencies for a platform-wide key). Objects outside the scope are
 * `NOT_FOUND`. `accountId` defaults to the viewer's account (a client's own,
 * an agency admin's pool); a system admin and a `SERVICE` must name one
 * (`BAD_USER_INPUT`).
 */
export type QueryLowBalanceAlertsArgs = {
  accountId?: InputMaybe<Scalars['ID']['input']>;
};


/**
 * Reads. Every one needs a token (`UNAUTHENTICATED` otherwise) and sees only
 * the viewer's scope: a client its own account, an agency admin its agency's
 * accounts, a system admin everything, a `SERVICE` its agency's accounts (all
 * agencies for a platform-wide key). Objects outside the scope are
 * `NOT_FOUND`. `accountId` defaults to the viewer's account (a client's own,
 * an agency admin's pool); a system admin and a `SERVICE` must name one
 * (`BAD_USER_INPUT`).
 */
export type QueryNodeArgs = {
  id: Scalars['ID']['input'];
};


/**
 * Reads. Every one needs a token (`UNAUTHENTICATED` otherwise) and sees only
 * the viewer's scope: a client its own account, an agency admin its agency's
 * accounts, a system admin everything, a `SERVICE` its agency's accounts (all
 * agencies for a platform-wide key). Objects outside the scope are
 * `NOT_FOUND`. `accountId` defaults to the viewer's account (a client's own,
 * an agency admin's pool); a system admin and a `SERVICE` must name one
 * (`BAD_USER_INPUT`).
 */
export type QueryRequestsArgs = {
  accountId?: InputMaybe<Scalars['ID']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<CreditRequestStatus>;
};


/**
 * Reads. Every one needs a token (`UNAUTHENTICATED` otherwise) and sees only
 * the viewer's scope: a client its own account, an agency admin its agency's
 * accounts, a system admin everything, a `SERVICE` its agency's accounts (all
 * agencies for a platform-wide key). Objects outside the scope are
 * `NOT_FOUND`. `accountId` defaults to the viewer's account (a client's own,
 * an agency admin's pool); a system admin and a `SERVICE` must name one
 * (`BAD_USER_INPUT`).
 */
export type QueryServicesArgs = {
  accountId?: InputMaybe<Scalars['ID']['input']>;
};


/**
 * Reads. Every one needs a token (`UNAUTHENTICATED` otherwise) and sees only
 * the viewer's scope: a client its own account, an agency admin its agency's
 * accounts, a system admin everything, a `SERVICE` its agency's accounts (all
 * agencies for a platform-wide key). Objects outside the scope are
 * `NOT_FOUND`. `accountId` defaults to the viewer's account (a client's own,
 * an agency admin's pool); a system admin and a `SERVICE` must name one
 * (`BAD_USER_INPUT`).
 */
export type QueryStatementArgs = {
  accountId?: InputMaybe<Scalars['ID']['input']>;
  currency?: InputMaybe<Scalars['String']['input']>;
  month: Scalars['String']['input'];
};


/**
 * Reads. Every one needs a token (`UNAUTHENTICATED` otherwise) and sees only
 * the viewer's scope: a client its own account, an agency admin its agency's
 * accounts, a system admin everything, a `SERVICE` its agency's accounts (all
 * agencies for a platform-wide key). Objects outside the scope are
 * `NOT_FOUND`. `accountId` defaults to the viewer's account (a client's own,
 * an agency admin's pool); a system admin and a `SERVICE` must name one
 * (`BAD_USER_INPUT`).
 */
export type QueryWebhookEndpointsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  agencyId?: InputMaybe<Scalars['ID']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** Input of `reclaimCredits`. */
export type ReclaimCreditsInput = {
  /** A positive credit amount, covered by the account's `available`. */
  amount: Scalars['Decimal']['input'];
  /** ISO 4217 code; default: the agency's default currency. */
  currency?: InputMaybe<Scalars['String']['input']>;
  /** A client account of the viewer's agency; the credits go back to its pool. */
  fromAccountId: Scalars['ID']['input'];
  /** Makes a retry safe: the same key and input answer the first result. */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  /** Why; shown in history. */
  reason?: InputMaybe<Scalars['String']['input']>;
};

/** Input of `recordUsage`. */
export type RecordUsageInput = {
  /** 1 to 1,000 events; each is all-or-nothing on its own. */
  events: Array<UsageEventInput>;
};

/** The answer of `recordUsage`. */
export type RecordUsagePayload = {
  __typename?: 'RecordUsagePayload';
  /** How many events were charged now or replayed. */
  recorded: Scalars['Int']['output'];
  /** How many events were refused (each has its `error`). */
  refused: Scalars['Int']['output'];
  /** One result per event, in the order of the events. */
  results: Array<UsageResult>;
};

/** Input of `redeliverWebhook`. */
export type RedeliverWebhookInput = {
  /** The delivery to send again (with the same `webhook-id`). */
  deliveryId: Scalars['ID']['input'];
};

/** Input of `refundPayment`. */
export type RefundPaymentInput = {
  /** Provider money to refund; default: all that is not refunded yet. More than that is `BAD_USER_INPUT`. */
  amount?: InputMaybe<Scalars['Decimal']['input']>;
  /** Makes a retry safe: the same key and input answer the first result. */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  /** A `SUCCEEDED` payment. */
  paymentId: Scalars['ID']['input'];
  /** Why; shown in history and sent to the provider. */
  reason?: InputMaybe<Scalars['String']['input']>;
};

/** Gives what remains of a hold back to available. */
export type ReleaseHoldInput = {
  /** The `ACTIVE` hold. */
  holdId: Scalars['ID']['input'];
};

/** Input of `removeCard`. */
export type RemoveCardInput = {
  /** The saved card (`crd_…`) of an account in the viewer's scope; `NOT_FOUND` otherwise. */
  cardId: Scalars['ID']['input'];
};

/** The answer of `removeCard`. */
export type RemoveCardPayload = {
  __typename?: 'RemoveCardPayload';
  /** The id of the card removed (also removed at the provider); an auto top-up rule that used it is `PAUSED`. */
  removedCardId: Scalars['ID']['output'];
};

/** Input of `reverseTransaction`. */
export type ReverseTransactionInput = {
  /** Makes a retry safe: the same key and input answer the first result. */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  /** Why (required); shown in history. */
  reason: Scalars['String']['input'];
  /** The transaction to undo (not `PURCHASE` or `AUTO_TOPUP`: refund those). */
  transactionId: Scalars['ID']['input'];
};

/** Input of `approveRequest` and `rejectRequest`. */
export type ReviewRequestInput = {
  /** `rejectRequest`: why, shown to the client as `rejectionReason`; ignored by `approveRequest`. */
  reason?: InputMaybe<Scalars['String']['input']>;
  /** The pending request (`req_…`); `NOT_FOUND` outside the viewer's agency, `CONFLICT` when already reviewed. */
  requestId: Scalars['ID']['input'];
};

/** Input of `revokeApiKey`. */
export type RevokeApiKeyInput = {
  /** The key (`key_…`) of the viewer's agency (any, for a system admin); `NOT_FOUND` otherwise. */
  apiKeyId: Scalars['ID']['input'];
};

/**
 * The viewer's role, from the token's `role` claim (an API key is always
 * `SERVICE`). Who may do what: docs/api.md#who-may-do-what.
 */
export type Role =
  /** Staff of an agency (partner): reads every account of its agency, reviews requests, allocates credits from the pool, manages services, packages and API keys. */
  | 'AGENCY_ADMIN'
  /** A user of one client account: reads it and spends its credits; may not buy credits. */
  | 'CLIENT'
  /** The owner of a client account: a `CLIENT` who may also buy credits and manage saved cards, auto top-up and low-balance alerts. */
  | 'CLIENT_OWNER'
  /** A back-end service of the platform (an API key, `Bearer cgk_…`, or a service JWT): records usage and holds, reads balances and services within its scopes; `FORBIDDEN` elsewhere. */
  | 'SERVICE'
  /** The operator of the whole gateway: every agency and account; must name `accountId` where a default would need one. */
  | 'SYSTEM_ADMIN';

/** Input of `rotateWebhookSecret`. */
export type RotateWebhookSecretInput = {
  /** Which endpoint. */
  endpointId: Scalars['ID']['input'];
};

/** How long the credits last at the recent rate of spending. */
export type Runway = {
  __typename?: 'Runway';
  /** The average spent per day (OUT, less reversals) over the last 30 days. */
  averageDailySpend: Scalars['Decimal']['output'];
  /** Whole days `available` lasts at that rate. */
  daysLeft: Scalars['Int']['output'];
  /** When `available` runs out at that rate. */
  runsOutAt: Scalars['Time']['output'];
};

/** Input of `sendInvoice`. */
export type SendInvoiceInput = {
  /** Where to; default: the account's `billingEmail`. */
  email?: InputMaybe<Scalars['String']['input']>;
  /** The invoice to e-mail. */
  invoiceId: Scalars['ID']['input'];
};

/** Something an agency sells for credits (an SMS, an hour of support), priced per unit, optionally by variant (a rate card). */
export type Service = Node & {
  __typename?: 'Service';
  /**
   * Whether the viewer's account (the account `services(accountId:)` names)
   * may buy one unit with credits now, and why not.
   */
  buyWithCredit: CreditAvailability;
  /** Whether it may be bought with credits; false: `buyServiceWithCredit` and usage are `NOT_ELIGIBLE`. */
  creditEligible: Scalars['Boolean']['output'];
  /** ISO 4217 code of its prices; charged to the balance in this currency. */
  currency: Scalars['String']['output'];
  /** Whole units the account's available balance still pays for at that rate (rounded down); 0 when not eligible. */
  estimatedUnitsLeft: Scalars['Int']['output'];
  /** Opaque global ID (`svc_…`). */
  id: Scalars['ID']['output'];
  /** Display name. */
  name: Scalars['String']['output'];
  /** The default rate: credits per unit, a credit amount exact to 6 fraction digits (`"0.0075"`). */
  price: Scalars['Decimal']['output'];
  /** The rate card: the default rate (variant `""`) first, then the variants by name. */
  rates: Array<ServiceRate>;
  /** What one unit is, e.g. `"SMS"`; default `"unit"`. */
  unit: Scalars['String']['output'];
};


/** Something an agency sells for credits (an SMS, an hour of support), priced per unit, optionally by variant (a rate card). */
export type ServiceBuyWithCreditArgs = {
  variant?: InputMaybe<Scalars['String']['input']>;
};


/** Something an agency sells for credits (an SMS, an hour of support), priced per unit, optionally by variant (a rate card). */
export type ServiceEstimatedUnitsLeftArgs = {
  variant?: InputMaybe<Scalars['String']['input']>;
};

/** One rate of a service's rate card: the price per unit of one variant. */
export type ServiceRate = {
  __typename?: 'ServiceRate';
  /**
   * `Service.estimatedUnitsLeft(variant:)` of this rate: whole units the
   * account's available balance pays for. One balance read per service answers
   * every rate of its card.
   */
  estimatedUnitsLeft: Scalars['Int']['output'];
  /** Credits per unit: a credit amount, exact to 6 fraction digits. */
  price: Scalars['Decimal']['output'];
  /** What the rate is for, e.g. an SMS destination country (`"SG"`, `"US"`); `""` is the default rate (= `Service.price`). */
  variant: Scalars['String']['output'];
};

/** One rate of `setServiceRates`. */
export type ServiceRateInput = {
  /** Credits per unit: greater than zero, up to 6 fraction digits (else `BAD_USER_INPUT`). */
  price: Scalars['Decimal']['input'];
  /** The variant, trimmed: 1 to 32 characters, or `""` for the default rate. */
  variant: Scalars['String']['input'];
};

/**
 * Input of `setAutoTopUp`: creates or replaces the account's rule for a
 * currency. Saving clears a pause and the decline count, and brings a waiting
 * retry forward to now.
 */
export type SetAutoTopUpInput = {
  /** The client account; default: the owner's account. A system admin must name one. */
  accountId?: InputMaybe<Scalars['ID']['input']>;
  /** `FIXED`: what each top-up buys; `TOP_UP_TO`: the balance to reach (above `threshold`, else `BAD_USER_INPUT`). Provider money, at most the currency's fraction digits. */
  amount: Scalars['Decimal']['input'];
  /** The saved card (`crd_…`) of the account to charge; `NOT_FOUND` otherwise. */
  cardId: Scalars['ID']['input'];
  /** ISO 4217 code of the balance to watch; default: the agency's `defaultCurrency`. */
  currency?: InputMaybe<Scalars['String']['input']>;
  /** Switch the rule on or off. */
  enabled: Scalars['Boolean']['input'];
  /** Fixed amount, or top up to a balance. */
  mode: AutoTopUpMode;
  /** At most this much auto top-up per calendar month (UTC); absent: no cap. Provider money. */
  monthlyCap?: InputMaybe<Scalars['Decimal']['input']>;
  /** A debit that takes `available` below this starts a top-up: a credit amount greater than zero, up to 6 fraction digits. */
  threshold: Scalars['Decimal']['input'];
};

/** The answer of `setAutoTopUp`. */
export type SetAutoTopUpPayload = {
  __typename?: 'SetAutoTopUpPayload';
  /** The rule as saved. */
  autoTopUp: AutoTopUp;
};

/** Input of `setLowBalanceAlert`: creates or replaces the account's alert for a currency. */
export type SetLowBalanceAlertInput = {
  /** The client account; default: the viewer's account (an agency admin must name a client account). A system admin must name one. */
  accountId?: InputMaybe<Scalars['ID']['input']>;
  /** ISO 4217 code of the balance to watch; default: the agency's `defaultCurrency`. */
  currency?: InputMaybe<Scalars['String']['input']>;
  /** Where the alert goes (a valid address, else `BAD_USER_INPUT`). */
  email: Scalars['String']['input'];
  /** Switch the alert on or off. */
  enabled: Scalars['Boolean']['input'];
  /** Below this `available` is low: a credit amount greater than zero, up to 6 fraction digits. */
  threshold: Scalars['Decimal']['input'];
};

/** The answer of `setLowBalanceAlert`. */
export type SetLowBalanceAlertPayload = {
  __typename?: 'SetLowBalanceAlertPayload';
  /** The alert as saved. */
  alert: LowBalanceAlert;
};

/** Input of `setServiceRates`. */
export type SetServiceRatesInput = {
  /** Replaces the service's variants (at most 500, unique variants, else `BAD_USER_INPUT`); the `""` rate sets `Service.price`. */
  rates: Array<ServiceRateInput>;
  /** The service (`svc_…`) of the viewer's agency; `NOT_FOUND` otherwise. */
  serviceId: Scalars['ID']['input'];
  /** What one unit is, 1 to 32 characters; absent: unchanged. */
  unit?: InputMaybe<Scalars['String']['input']>;
};

/** Input of `startCardSetup`. */
export type StartCardSetupInput = {
  /** The client account the card is for; default: the owner's account. A system admin must name one. */
  accountId?: InputMaybe<Scalars['ID']['input']>;
};

/** A monthly statement of one balance: opening, what came in and went out, closing; the sums match the ledger exactly. */
export type Statement = {
  __typename?: 'Statement';
  /** The account. */
  account: Account;
  /** The balance (`total`) at `to`: opening + in − out. */
  closingBalance: Scalars['Decimal']['output'];
  /** ISO 4217 code. */
  currency: Scalars['String']['output'];
  /** A printable HTML statement: a link that works without a token, cannot be guessed, and expires. */
  documentUrl: Scalars['String']['output'];
  /** The period's first instant (inclusive). */
  from: Scalars['Time']['output'];
  /** The month, `YYYY-MM` (UTC). */
  month: Scalars['String']['output'];
  /** The balance (`total`) at `from`. */
  openingBalance: Scalars['Decimal']['output'];
  /** The period's end (exclusive). */
  to: Scalars['Time']['output'];
  /** The sum of IN transactions in the period. */
  totalIn: Scalars['Decimal']['output'];
  /** The sum of OUT transactions in the period (positive). */
  totalOut: Scalars['Decimal']['output'];
  /** How many transactions the period holds. */
  transactionCount: Scalars['Int']['output'];
};

/**
 * Live updates over WebSocket on `/graphql` (`graphql-transport-ws` or the
 * legacy `graphql-ws` protocol; the token in the `connection_init` payload) or
 * Server-Sent Events. A missing or bad token closes the socket with 4403 (or
 * 4401); the socket closes when the token expires.
 */
export type Subscription = {
  __typename?: 'Subscription';
  /**
   * Every balance change of every account of the agency, on one subscription
   * (the dashboard's live view), in commit order per balance.
   */
  agencyBalanceUpdated: Balance;
  /**
   * The agency as it is after each change of its settings (the
   * credit-payments switch, the default currency, billing): open portals hear
   * of it at once.
   */
  agencyUpdated: Agency;
  /**
   * The balance after every change of it, pushed to every subscriber of that
   * account on any gateway instance, in commit order. `SERVICE` needs
   * `BALANCES_READ` and an `accountId`.
   */
  balanceUpdated: Balance;
  /**
   * Every change to a credit request the viewer may see: agency dashboards
   * receive their agency's requests, clients their own account's. `FORBIDDEN`
   * to `SERVICE`.
   */
  creditRequestUpdated: CreditRequest;
};


/**
 * Live updates over WebSocket on `/graphql` (`graphql-transport-ws` or the
 * legacy `graphql-ws` protocol; the token in the `connection_init` payload) or
 * Server-Sent Events. A missing or bad token closes the socket with 4403 (or
 * 4401); the socket closes when the token expires.
 */
export type SubscriptionAgencyBalanceUpdatedArgs = {
  agencyId?: InputMaybe<Scalars['ID']['input']>;
};


/**
 * Live updates over WebSocket on `/graphql` (`graphql-transport-ws` or the
 * legacy `graphql-ws` protocol; the token in the `connection_init` payload) or
 * Server-Sent Events. A missing or bad token closes the socket with 4403 (or
 * 4401); the socket closes when the token expires.
 */
export type SubscriptionAgencyUpdatedArgs = {
  agencyId?: InputMaybe<Scalars['ID']['input']>;
};


/**
 * Live updates over WebSocket on `/graphql` (`graphql-transport-ws` or the
 * legacy `graphql-ws` protocol; the token in the `connection_init` payload) or
 * Server-Sent Events. A missing or bad token closes the socket with 4403 (or
 * 4401); the socket closes when the token expires.
 */
export type SubscriptionBalanceUpdatedArgs = {
  accountId?: InputMaybe<Scalars['ID']['input']>;
  currency?: InputMaybe<Scalars['String']['input']>;
};


/**
 * Live updates over WebSocket on `/graphql` (`graphql-transport-ws` or the
 * legacy `graphql-ws` protocol; the token in the `connection_init` payload) or
 * Server-Sent Events. A missing or bad token closes the socket with 4403 (or
 * 4401); the socket closes when the token expires.
 */
export type SubscriptionCreditRequestUpdatedArgs = {
  status?: InputMaybe<CreditRequestStatus>;
};

/** Why a transaction happened. */
export type TransactionKind =
  /** A manual correction by the agency or the operator (IN or OUT). */
  | 'ADJUSTMENT'
  /** Credits moved from the agency pool to a client account (IN on the client) or back (OUT). */
  | 'ALLOCATION'
  /** IN: credits bought with a saved card by an auto top-up rule. */
  | 'AUTO_TOPUP'
  /** OUT: an invoice paid with credits (`payInvoiceWithCredit`). */
  | 'INVOICE_PAYMENT'
  /** IN: credits bought with an instant payment (card, PayPal). */
  | 'PURCHASE'
  /** OUT: credits removed because their payment was refunded. */
  | 'REFUND'
  /** IN: a credit request (bank transfer, crypto, post-paid) accepted by the agency. */
  | 'REQUEST_APPROVED'
  /** An earlier transaction undone (IN for a reversed debit, OUT for a reversed credit). */
  | 'REVERSAL'
  /** OUT: a service bought with credits (`buyServiceWithCredit`). */
  | 'SERVICE_PURCHASE'
  /** A post-paid request settled: moves counter-accounts only, never shown in an account's history. */
  | 'SETTLEMENT'
  /** OUT: metered usage recorded by a service (`recordUsage`), directly or by capturing a hold. */
  | 'USAGE';

/** The direction of a transaction, from the account's point of view. */
export type TransactionType =
  /** Credits added to the account. */
  | 'IN'
  /** Credits deducted from the account. */
  | 'OUT';

/** Input of `updateAgencySettings`: absent fields are unchanged. */
export type UpdateAgencySettingsInput = {
  /** The agency; default: the agency admin's own. A system admin must name one. */
  agencyId?: InputMaybe<Scalars['ID']['input']>;
  /** Turn credit payments of the agency's clients on or off (off: buying and spending credits are `CREDIT_PAYMENTS_DISABLED`). */
  creditPaymentsEnabled?: InputMaybe<Scalars['Boolean']['input']>;
  /** A new default ISO 4217 code. */
  defaultCurrency?: InputMaybe<Scalars['String']['input']>;
};

/** Input of `updateBilling`: what is given changes, the rest stays. */
export type UpdateBillingInput = {
  /** With `billingEmail`: the account whose address it is. */
  accountId?: InputMaybe<Scalars['ID']['input']>;
  /** The agency (system admins); default: the viewer's. */
  agencyId?: InputMaybe<Scalars['ID']['input']>;
  /** Printed on new `CREDIT_TOPUP` invoices; `""` removes them. */
  bankDetails?: InputMaybe<Scalars['String']['input']>;
  /** With `accountId`: where that account's invoices go; `""` removes it. */
  billingEmail?: InputMaybe<Scalars['String']['input']>;
  /** Days from issue to due date of new `CREDIT_TOPUP` invoices (0 to 365). */
  invoiceDueDays?: InputMaybe<Scalars['Int']['input']>;
};

/** Input of `updateWebhookEndpoint`: what is given changes, the rest stays. */
export type UpdateWebhookEndpointInput = {
  /** A new description; `""` removes it. */
  description?: InputMaybe<Scalars['String']['input']>;
  /** Turn it off or back on (on again clears `disabledReason`; failed deliveries are not resent: `redeliverWebhook` them). */
  enabled?: InputMaybe<Scalars['Boolean']['input']>;
  /** Which endpoint. */
  endpointId: Scalars['ID']['input'];
  /** The events to send; empty: every event. */
  events?: InputMaybe<Array<WebhookEventType>>;
  /** A new URL (same rules as on creation). */
  url?: InputMaybe<Scalars['String']['input']>;
};

/** Why one usage event was refused; nothing moved for it. */
export type UsageError = {
  __typename?: 'UsageError';
  /** A contract error code: `INSUFFICIENT_CREDITS`, `NOT_FOUND`, `NOT_ELIGIBLE`, `BAD_USER_INPUT`, `CONFLICT`, `FORBIDDEN`, ... (docs/api.md#errors). */
  code: Scalars['String']['output'];
  /** What was wrong, in plain words. */
  message: Scalars['String']['output'];
};

/** One metered usage event of `recordUsage`. */
export type UsageEventInput = {
  /** The account charged (`acc_…`), within the caller's agency; else the event's error is `NOT_FOUND`. */
  accountId: Scalars['ID']['input'];
  /** Charge this active hold instead of the free balance (a partial capture); `INSUFFICIENT_CREDITS` when its remainder does not cover the event. */
  holdId?: InputMaybe<Scalars['ID']['input']>;
  /** Machines retry: every event names its key (scope: the account's agency). A replay answers the first transaction with `replayed: true`; the same key with other input is a `CONFLICT` error for that event. */
  idempotencyKey: Scalars['String']['input'];
  /** Units used, at least 1; default 1. Charged rate × quantity exactly. */
  quantity?: InputMaybe<Scalars['Int']['input']>;
  /** The caller's reference, shown in history (e.g. `"OTP +65 9xxx 1234"`, `"campaign 42"`). */
  reference?: InputMaybe<Scalars['String']['input']>;
  /** The service used (`svc_…`) of the account's agency; charged in its currency. */
  serviceId: Scalars['ID']['input'];
  /** Picks the rate; absent or unknown falls back to the default rate (`Service.price`). */
  variant?: InputMaybe<Scalars['String']['input']>;
};

/** The outcome of one usage event, in the order of the events. */
export type UsageResult = {
  __typename?: 'UsageResult';
  /** Set when this event was refused; nothing moved for it. */
  error: Maybe<UsageError>;
  /** The event's idempotency key, as sent. */
  idempotencyKey: Scalars['String']['output'];
  /** True when this key was already recorded: nothing moved now. */
  replayed: Scalars['Boolean']['output'];
  /** The `USAGE` transaction (the first one, on a replay); null when refused. */
  transaction: Maybe<CreditTransaction>;
};

/** Who the request's token says the caller is. */
export type Viewer = {
  __typename?: 'Viewer';
  /** The viewer's default account: the client account of a `CLIENT` or `CLIENT_OWNER`, the agency's pool account for an `AGENCY_ADMIN`; null for a system admin and a `SERVICE`. */
  account: Maybe<Account>;
  /** The viewer's agency; null for a system admin and a platform-wide API key. */
  agency: Maybe<Agency>;
  /** The token's role. */
  role: Role;
  /** The token's `sub` claim (`apikey:<id>` for an API key). */
  userId: Scalars['String']['output'];
};

/** Input of `voidInvoice`. */
export type VoidInvoiceInput = {
  /** An `OPEN` or `OVERDUE` invoice (a paid one is reversed first). */
  invoiceId: Scalars['ID']['input'];
  /** Why (required). */
  reason: Scalars['String']['input'];
};

/** One event sent to one endpoint: its attempts so far. */
export type WebhookDelivery = Node & {
  __typename?: 'WebhookDelivery';
  /** How many attempts were made. */
  attempts: Scalars['Int']['output'];
  /** When the event happened. */
  createdAt: Scalars['Time']['output'];
  /** The endpoint. */
  endpoint: WebhookEndpoint;
  /** Why the last attempt failed (timeout, refused address, status); null when it succeeded. */
  error: Maybe<Scalars['String']['output']>;
  /** What happened. */
  eventType: WebhookEventType;
  /** Opaque global ID (`whd_…`). */
  id: Scalars['ID']['output'];
  /** When the last attempt was made; null before the first. */
  lastAttemptAt: Maybe<Scalars['Time']['output']>;
  /** How long the last attempt took, in milliseconds. */
  latencyMs: Maybe<Scalars['Int']['output']>;
  /** The `webhook-id` header: the same on every attempt and redelivery, for the receiver's deduplication. */
  messageId: Scalars['String']['output'];
  /** When the next attempt is due; null once it succeeded or failed. */
  nextAttemptAt: Maybe<Scalars['Time']['output']>;
  /** The body sent (JSON: `type`, `timestamp`, `data`). */
  payload: Scalars['String']['output'];
  /** The HTTP status of the last attempt; null when none answered. */
  responseCode: Maybe<Scalars['Int']['output']>;
  /** Where it stands. */
  status: WebhookDeliveryStatus;
};

/** A page of webhook deliveries, newest first. */
export type WebhookDeliveryConnection = {
  __typename?: 'WebhookDeliveryConnection';
  /** The deliveries of this page. */
  edges: Array<WebhookDeliveryEdge>;
  /** Where this page sits. */
  pageInfo: PageInfo;
  /** How many deliveries match, over all pages. */
  totalCount: Scalars['Int']['output'];
};

/** A webhook delivery and its cursor. */
export type WebhookDeliveryEdge = {
  __typename?: 'WebhookDeliveryEdge';
  /** Pass as `after` to continue after this delivery. */
  cursor: Scalars['String']['output'];
  /** The delivery. */
  node: WebhookDelivery;
};

/** Where a delivery stands. */
export type WebhookDeliveryStatus =
  /** Gave up after 3 days of failed attempts (or the endpoint was disabled). */
  | 'FAILED'
  /** Waiting for its first or next attempt. */
  | 'PENDING'
  /** The endpoint answered 2xx. */
  | 'SUCCEEDED';

/**
 * An HTTPS endpoint that receives the agency's events (or, without an agency,
 * every agency's: system admins), signed per the Standard Webhooks
 * specification: headers `webhook-id`, `webhook-timestamp` and
 * `webhook-signature` (`v1,` + base64 HMAC-SHA256 over `id.timestamp.body`
 * with the secret's key).
 */
export type WebhookEndpoint = Node & {
  __typename?: 'WebhookEndpoint';
  /** The agency whose events it receives; null: every agency's (platform-wide). */
  agency: Maybe<Agency>;
  /** When it was created. */
  createdAt: Scalars['Time']['output'];
  /** Its deliveries, newest first. */
  deliveries: WebhookDeliveryConnection;
  /** What it is for, in the agency's words. */
  description: Maybe<Scalars['String']['output']>;
  /** Why it was disabled; null while enabled. */
  disabledReason: Maybe<Scalars['String']['output']>;
  /** Whether events are sent to it. Disabled by hand, or by the gateway after 3 days of failed deliveries (`disabledReason`). */
  enabled: Scalars['Boolean']['output'];
  /** The events it receives; empty: every event. */
  events: Array<WebhookEventType>;
  /** Opaque global ID (`whe_…`). */
  id: Scalars['ID']['output'];
  /** The first characters of its secret (`whsec_…`), to tell secrets apart; the secret itself is shown once. */
  secretPrefix: Scalars['String']['output'];
  /** Where events are POSTed (`https` in production). */
  url: Scalars['String']['output'];
};


/**
 * An HTTPS endpoint that receives the agency's events (or, without an agency,
 * every agency's: system admins), signed per the Standard Webhooks
 * specification: headers `webhook-id`, `webhook-timestamp` and
 * `webhook-signature` (`v1,` + base64 HMAC-SHA256 over `id.timestamp.body`
 * with the secret's key).
 */
export type WebhookEndpointDeliveriesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<WebhookDeliveryStatus>;
};

/** A page of webhook endpoints. */
export type WebhookEndpointConnection = {
  __typename?: 'WebhookEndpointConnection';
  /** The endpoints of this page. */
  edges: Array<WebhookEndpointEdge>;
  /** Where this page sits. */
  pageInfo: PageInfo;
  /** How many endpoints match, over all pages. */
  totalCount: Scalars['Int']['output'];
};

/** A webhook endpoint and its cursor. */
export type WebhookEndpointEdge = {
  __typename?: 'WebhookEndpointEdge';
  /** Pass as `after` to continue after this endpoint. */
  cursor: Scalars['String']['output'];
  /** The endpoint. */
  node: WebhookEndpoint;
};

/**
 * What happened, as sent to webhook endpoints: the body's `type` is the wire
 * name in each value's description (e.g. `balance.low`).
 */
export type WebhookEventType =
  /** `autotopup.paused`: auto top-up paused itself (repeated declines, an expired card). */
  | 'AUTOTOPUP_PAUSED'
  /** `balance.depleted`: `available` reached zero. */
  | 'BALANCE_DEPLETED'
  /** `balance.low`: a debit took `available` below the account's low-balance alert threshold. */
  | 'BALANCE_LOW'
  /** `balance.recovered`: `available` is back at or above the alert threshold. */
  | 'BALANCE_RECOVERED'
  /** `hold.expired`: a hold reached its expiry and its rest went back to available. */
  | 'HOLD_EXPIRED'
  /** `invoice.issued`: a `CREDIT_TOPUP` invoice was issued. */
  | 'INVOICE_ISSUED'
  /** `invoice.paid`: an invoice was paid. */
  | 'INVOICE_PAID'
  /** `payment.refunded`: a payment was refunded, in part or whole (here or at the provider). */
  | 'PAYMENT_REFUNDED'
  /** `payment.succeeded`: an instant payment (card, PayPal) credited the account. */
  | 'PAYMENT_SUCCEEDED'
  /** `request.created`: a credit request was submitted. */
  | 'REQUEST_CREATED'
  /** `request.reviewed`: a credit request was accepted or rejected. */
  | 'REQUEST_REVIEWED'
  /** `topup.failed`: an auto top-up's charge was declined or failed. */
  | 'TOPUP_FAILED'
  /** `topup.succeeded`: an auto top-up credited the account. */
  | 'TOPUP_SUCCEEDED';

/** The answer of `createWebhookEndpoint` and `rotateWebhookSecret`. */
export type WebhookSecretPayload = {
  __typename?: 'WebhookSecretPayload';
  /** The endpoint. */
  endpoint: WebhookEndpoint;
  /** Its signing secret (`whsec_` + base64 key): shown once, never again. */
  secret: Scalars['String']['output'];
};

export type AuditLogQueryVariables = Exact<{
  action?: InputMaybe<Scalars['String']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
}>;


export type AuditLogQuery = { __typename?: 'Query', auditLog: { __typename?: 'AuditEventConnection', totalCount: number, edges: Array<{ __typename?: 'AuditEventEdge', node: { __typename?: 'AuditEvent', id: string, at: string, actor: string, role: Role | null, action: string, summary: string, targetId: string | null, account: { __typename?: 'Account', id: string, name: string } | null } }>, pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, endCursor: string | null } } };

export type ApiKeysQueryVariables = Exact<{ [key: string]: never; }>;


export type ApiKeysQuery = { __typename?: 'Query', apiKeys: Array<{ __typename?: 'ApiKey', id: string, name: string, prefix: string, scopes: Array<ApiKeyScope>, createdAt: string, createdBy: string, lastUsedAt: string | null, revokedAt: string | null }> };

export type CreateApiKeyMutationVariables = Exact<{
  input: CreateApiKeyInput;
}>;


export type CreateApiKeyMutation = { __typename?: 'Mutation', createApiKey: { __typename?: 'CreateApiKeyPayload', secret: string, apiKey: { __typename?: 'ApiKey', id: string, name: string, prefix: string, scopes: Array<ApiKeyScope>, createdAt: string, createdBy: string, lastUsedAt: string | null, revokedAt: string | null } } };

export type RevokeApiKeyMutationVariables = Exact<{
  input: RevokeApiKeyInput;
}>;


export type RevokeApiKeyMutation = { __typename?: 'Mutation', revokeApiKey: { __typename?: 'ApiKey', id: string, name: string, prefix: string, scopes: Array<ApiKeyScope>, createdAt: string, createdBy: string, lastUsedAt: string | null, revokedAt: string | null } };

export type ClientAccountQueryVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type ClientAccountQuery = { __typename?: 'Query', node:
    | { __typename?: 'Account', id: string, name: string, kind: AccountKind, billingEmail: string | null, balances: Array<{ __typename?: 'Balance', currency: string, available: string, held: string, owed: string, updatedAt: string }> }
    | { __typename?: 'Agency' }
    | { __typename?: 'ApiKey' }
    | { __typename?: 'AuditEvent' }
    | { __typename?: 'AutoTopUp' }
    | { __typename?: 'Card' }
    | { __typename?: 'CreditPackage' }
    | { __typename?: 'CreditRequest' }
    | { __typename?: 'CreditTransaction' }
    | { __typename?: 'Hold' }
    | { __typename?: 'Invoice' }
    | { __typename?: 'LowBalanceAlert' }
    | { __typename?: 'Payment' }
    | { __typename?: 'Service' }
    | { __typename?: 'WebhookDelivery' }
    | { __typename?: 'WebhookEndpoint' }
   | null };

export type ClientHistoryQueryVariables = Exact<{
  accountId?: InputMaybe<Scalars['ID']['input']>;
  currency?: InputMaybe<Scalars['String']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type ClientHistoryQuery = { __typename?: 'Query', history: { __typename?: 'CreditTransactionConnection', totalCount: number, edges: Array<{ __typename?: 'CreditTransactionEdge', node: { __typename?: 'CreditTransaction', id: string, createdAt: string, type: TransactionType, kind: TransactionKind, reference: string, amount: string, currency: string, runningBalance: string, reason: string | null, actor: string, reversedBy: { __typename?: 'CreditTransaction', id: string } | null, payment: { __typename?: 'Payment', id: string, provider: string, providerRef: string, status: string, amount: string, currency: string, refunded: string } | null } }>, pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, endCursor: string | null } } };

export type ClientInvoicesQueryVariables = Exact<{
  accountId?: InputMaybe<Scalars['ID']['input']>;
}>;


export type ClientInvoicesQuery = { __typename?: 'Query', invoices: { __typename?: 'InvoiceConnection', edges: Array<{ __typename?: 'InvoiceEdge', node: { __typename?: 'Invoice', id: string, number: string, kind: InvoiceKind, amount: string, currency: string, status: InvoiceStatus, issuedAt: string, dueAt: string | null, voidReason: string | null } }> } };

export type AdjustBalanceMutationVariables = Exact<{
  input: AdjustBalanceInput;
}>;


export type AdjustBalanceMutation = { __typename?: 'Mutation', adjustBalance: { __typename?: 'CorrectionPayload', transaction: { __typename?: 'CreditTransaction', id: string, createdAt: string, type: TransactionType, kind: TransactionKind, reference: string, amount: string, currency: string, runningBalance: string, reason: string | null, actor: string, reversedBy: { __typename?: 'CreditTransaction', id: string } | null, payment: { __typename?: 'Payment', id: string, provider: string, providerRef: string, status: string, amount: string, currency: string, refunded: string } | null }, balance: { __typename?: 'Balance', currency: string, available: string, held: string, owed: string, updatedAt: string } } };

export type ReclaimCreditsMutationVariables = Exact<{
  input: ReclaimCreditsInput;
}>;


export type ReclaimCreditsMutation = { __typename?: 'Mutation', reclaimCredits: { __typename?: 'CorrectionPayload', transaction: { __typename?: 'CreditTransaction', id: string, createdAt: string, type: TransactionType, kind: TransactionKind, reference: string, amount: string, currency: string, runningBalance: string, reason: string | null, actor: string, reversedBy: { __typename?: 'CreditTransaction', id: string } | null, payment: { __typename?: 'Payment', id: string, provider: string, providerRef: string, status: string, amount: string, currency: string, refunded: string } | null }, balance: { __typename?: 'Balance', currency: string, available: string, held: string, owed: string, updatedAt: string }, poolBalance: { __typename?: 'Balance', currency: string, available: string, updatedAt: string } | null } };

export type ReverseTransactionMutationVariables = Exact<{
  input: ReverseTransactionInput;
}>;


export type ReverseTransactionMutation = { __typename?: 'Mutation', reverseTransaction: { __typename?: 'CorrectionPayload', transaction: { __typename?: 'CreditTransaction', id: string, createdAt: string, type: TransactionType, kind: TransactionKind, reference: string, amount: string, currency: string, runningBalance: string, reason: string | null, actor: string, reversedBy: { __typename?: 'CreditTransaction', id: string } | null, payment: { __typename?: 'Payment', id: string, provider: string, providerRef: string, status: string, amount: string, currency: string, refunded: string } | null }, balance: { __typename?: 'Balance', currency: string, available: string, held: string, owed: string, updatedAt: string }, poolBalance: { __typename?: 'Balance', currency: string, available: string, updatedAt: string } | null, invoice: { __typename?: 'Invoice', id: string, number: string, kind: InvoiceKind, amount: string, currency: string, status: InvoiceStatus, issuedAt: string, dueAt: string | null, voidReason: string | null } | null } };

export type RefundPaymentMutationVariables = Exact<{
  input: RefundPaymentInput;
}>;


export type RefundPaymentMutation = { __typename?: 'Mutation', refundPayment: { __typename?: 'CorrectionPayload', transaction: { __typename?: 'CreditTransaction', id: string, createdAt: string, type: TransactionType, kind: TransactionKind, reference: string, amount: string, currency: string, runningBalance: string, reason: string | null, actor: string, reversedBy: { __typename?: 'CreditTransaction', id: string } | null, payment: { __typename?: 'Payment', id: string, provider: string, providerRef: string, status: string, amount: string, currency: string, refunded: string } | null }, balance: { __typename?: 'Balance', currency: string, available: string, held: string, owed: string, updatedAt: string }, payment: { __typename?: 'Payment', id: string, status: string, amount: string, currency: string, refunded: string } | null } };

export type VoidInvoiceMutationVariables = Exact<{
  input: VoidInvoiceInput;
}>;


export type VoidInvoiceMutation = { __typename?: 'Mutation', voidInvoice: { __typename?: 'Invoice', id: string, number: string, kind: InvoiceKind, amount: string, currency: string, status: InvoiceStatus, issuedAt: string, dueAt: string | null, voidReason: string | null } };

export type UpdateBillingMutationVariables = Exact<{
  input: UpdateBillingInput;
}>;


export type UpdateBillingMutation = { __typename?: 'Mutation', updateBilling: { __typename?: 'Agency', id: string, invoiceDueDays: number, bankDetails: string | null } };

export type ViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type ViewerQuery = { __typename?: 'Query', viewer: { __typename?: 'Viewer', userId: string, role: Role, agency: { __typename?: 'Agency', id: string, name: string, defaultCurrency: string, creditPaymentsEnabled: boolean, invoiceDueDays: number, bankDetails: string | null, unpaidPostpaid: Array<{ __typename?: 'CurrencyAmount', currency: string, amount: string }>, poolAccount: { __typename?: 'Account', id: string, name: string, balance: { __typename?: 'Balance', currency: string, available: string, updatedAt: string } } } | null } };

export type AccountsQueryVariables = Exact<{
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type AccountsQuery = { __typename?: 'Query', agency: { __typename?: 'Agency', accounts: { __typename?: 'AccountConnection', totalCount: number, edges: Array<{ __typename?: 'AccountEdge', node: { __typename?: 'Account', id: string, name: string, kind: AccountKind, balances: Array<{ __typename?: 'Balance', currency: string, available: string, held: string, owed: string, updatedAt: string }> } }>, pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, endCursor: string | null } } } | null };

export type PendingQueryVariables = Exact<{ [key: string]: never; }>;


export type PendingQuery = { __typename?: 'Query', requests: { __typename?: 'CreditRequestConnection', totalCount: number, edges: Array<{ __typename?: 'CreditRequestEdge', node: { __typename?: 'CreditRequest', id: string, amount: string, currency: string, method: PaymentMethod, reference: string | null, status: CreditRequestStatus, paid: boolean, createdAt: string, submittedBy: string, reviewedAt: string | null, reviewedBy: string | null, rejectionReason: string | null, account: { __typename?: 'Account', id: string, name: string, kind: AccountKind } } }> } };

export type RecentQueryVariables = Exact<{ [key: string]: never; }>;


export type RecentQuery = { __typename?: 'Query', requests: { __typename?: 'CreditRequestConnection', edges: Array<{ __typename?: 'CreditRequestEdge', node: { __typename?: 'CreditRequest', id: string, amount: string, currency: string, method: PaymentMethod, reference: string | null, status: CreditRequestStatus, paid: boolean, createdAt: string, submittedBy: string, reviewedAt: string | null, reviewedBy: string | null, rejectionReason: string | null, account: { __typename?: 'Account', id: string, name: string, kind: AccountKind } } }> } };

export type ApproveMutationVariables = Exact<{
  input: ReviewRequestInput;
}>;


export type ApproveMutation = { __typename?: 'Mutation', approveRequest: { __typename?: 'CreditRequestPayload', request: { __typename?: 'CreditRequest', id: string, amount: string, currency: string, method: PaymentMethod, reference: string | null, status: CreditRequestStatus, paid: boolean, createdAt: string, submittedBy: string, reviewedAt: string | null, reviewedBy: string | null, rejectionReason: string | null, account: { __typename?: 'Account', id: string, name: string, kind: AccountKind } }, balance: { __typename?: 'Balance', currency: string, available: string, held: string, updatedAt: string } } };

export type RejectMutationVariables = Exact<{
  input: ReviewRequestInput;
}>;


export type RejectMutation = { __typename?: 'Mutation', rejectRequest: { __typename?: 'CreditRequestPayload', request: { __typename?: 'CreditRequest', id: string, amount: string, currency: string, method: PaymentMethod, reference: string | null, status: CreditRequestStatus, paid: boolean, createdAt: string, submittedBy: string, reviewedAt: string | null, reviewedBy: string | null, rejectionReason: string | null, account: { __typename?: 'Account', id: string, name: string, kind: AccountKind } } } };

export type MarkPaidMutationVariables = Exact<{
  input: MarkRequestPaidInput;
}>;


export type MarkPaidMutation = { __typename?: 'Mutation', markRequestPaid: { __typename?: 'CreditRequestPayload', request: { __typename?: 'CreditRequest', id: string, amount: string, currency: string, method: PaymentMethod, reference: string | null, status: CreditRequestStatus, paid: boolean, createdAt: string, submittedBy: string, reviewedAt: string | null, reviewedBy: string | null, rejectionReason: string | null, account: { __typename?: 'Account', id: string, name: string, kind: AccountKind } } } };

export type AllocateMutationVariables = Exact<{
  input: AllocateCreditsInput;
}>;


export type AllocateMutation = { __typename?: 'Mutation', allocateCredits: { __typename?: 'AllocateCreditsPayload', transaction: { __typename?: 'CreditTransaction', amount: string, currency: string }, balance: { __typename?: 'Balance', currency: string, available: string, held: string, updatedAt: string, account: { __typename?: 'Account', id: string, name: string } }, poolBalance: { __typename?: 'Balance', currency: string, available: string, updatedAt: string } } };

export type SettingsMutationVariables = Exact<{
  input: UpdateAgencySettingsInput;
}>;


export type SettingsMutation = { __typename?: 'Mutation', updateAgencySettings: { __typename?: 'Agency', id: string, creditPaymentsEnabled: boolean } };

export type OnRequestSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type OnRequestSubscription = { __typename?: 'Subscription', creditRequestUpdated: { __typename?: 'CreditRequest', id: string, amount: string, currency: string, method: PaymentMethod, reference: string | null, status: CreditRequestStatus, paid: boolean, createdAt: string, submittedBy: string, reviewedAt: string | null, reviewedBy: string | null, rejectionReason: string | null, account: { __typename?: 'Account', id: string, name: string, kind: AccountKind } } };

export type OnBalancesSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type OnBalancesSubscription = { __typename?: 'Subscription', agencyBalanceUpdated: { __typename?: 'Balance', currency: string, available: string, held: string, owed: string, updatedAt: string, account: { __typename?: 'Account', id: string } } };

export type WebhookEndpointsQueryVariables = Exact<{
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type WebhookEndpointsQuery = { __typename?: 'Query', webhookEndpoints: { __typename?: 'WebhookEndpointConnection', edges: Array<{ __typename?: 'WebhookEndpointEdge', node: { __typename?: 'WebhookEndpoint', id: string, url: string, description: string | null, events: Array<WebhookEventType>, enabled: boolean, disabledReason: string | null, secretPrefix: string, createdAt: string } }>, pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, endCursor: string | null } } };

export type WebhookDeliveriesQueryVariables = Exact<{
  id: Scalars['ID']['input'];
  status?: InputMaybe<WebhookDeliveryStatus>;
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
}>;


export type WebhookDeliveriesQuery = { __typename?: 'Query', node:
    | { __typename?: 'Account' }
    | { __typename?: 'Agency' }
    | { __typename?: 'ApiKey' }
    | { __typename?: 'AuditEvent' }
    | { __typename?: 'AutoTopUp' }
    | { __typename?: 'Card' }
    | { __typename?: 'CreditPackage' }
    | { __typename?: 'CreditRequest' }
    | { __typename?: 'CreditTransaction' }
    | { __typename?: 'Hold' }
    | { __typename?: 'Invoice' }
    | { __typename?: 'LowBalanceAlert' }
    | { __typename?: 'Payment' }
    | { __typename?: 'Service' }
    | { __typename?: 'WebhookDelivery' }
    | { __typename?: 'WebhookEndpoint', id: string, deliveries: { __typename?: 'WebhookDeliveryConnection', totalCount: number, edges: Array<{ __typename?: 'WebhookDeliveryEdge', node: { __typename?: 'WebhookDelivery', id: string, messageId: string, eventType: WebhookEventType, status: WebhookDeliveryStatus, attempts: number, createdAt: string, lastAttemptAt: string | null, nextAttemptAt: string | null, responseCode: number | null, latencyMs: number | null, error: string | null } }>, pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, endCursor: string | null } } }
   | null };

export type CreateWebhookEndpointMutationVariables = Exact<{
  input: CreateWebhookEndpointInput;
}>;


export type CreateWebhookEndpointMutation = { __typename?: 'Mutation', createWebhookEndpoint: { __typename?: 'WebhookSecretPayload', secret: string, endpoint: { __typename?: 'WebhookEndpoint', id: string, url: string, description: string | null, events: Array<WebhookEventType>, enabled: boolean, disabledReason: string | null, secretPrefix: string, createdAt: string } } };

export type UpdateWebhookEndpointMutationVariables = Exact<{
  input: UpdateWebhookEndpointInput;
}>;


export type UpdateWebhookEndpointMutation = { __typename?: 'Mutation', updateWebhookEndpoint: { __typename?: 'WebhookEndpoint', id: string, url: string, description: string | null, events: Array<WebhookEventType>, enabled: boolean, disabledReason: string | null, secretPrefix: string, createdAt: string } };

export type RotateWebhookSecretMutationVariables = Exact<{
  input: RotateWebhookSecretInput;
}>;


export type RotateWebhookSecretMutation = { __typename?: 'Mutation', rotateWebhookSecret: { __typename?: 'WebhookSecretPayload', secret: string, endpoint: { __typename?: 'WebhookEndpoint', id: string, url: string, description: string | null, events: Array<WebhookEventType>, enabled: boolean, disabledReason: string | null, secretPrefix: string, createdAt: string } } };

export type RedeliverWebhookMutationVariables = Exact<{
  input: RedeliverWebhookInput;
}>;


export type RedeliverWebhookMutation = { __typename?: 'Mutation', redeliverWebhook: { __typename?: 'WebhookDelivery', id: string, messageId: string, eventType: WebhookEventType, status: WebhookDeliveryStatus, attempts: number, createdAt: string, lastAttemptAt: string | null, nextAttemptAt: string | null, responseCode: number | null, latencyMs: number | null, error: string | null } };


export const AuditLogDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"AuditLog"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"action"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"auditLog"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"action"},"value":{"kind":"Variable","name":{"kind":"Name","value":"action"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"at"}},{"kind":"Field","name":{"kind":"Name","value":"actor"}},{"kind":"Field","name":{"kind":"Name","value":"role"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"summary"}},{"kind":"Field","name":{"kind":"Name","value":"targetId"}},{"kind":"Field","name":{"kind":"Name","value":"account"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}}]}}]} as unknown as DocumentNode<AuditLogQuery, AuditLogQueryVariables>;
export const ApiKeysDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ApiKeys"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"apiKeys"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"prefix"}},{"kind":"Field","name":{"kind":"Name","value":"scopes"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"createdBy"}},{"kind":"Field","name":{"kind":"Name","value":"lastUsedAt"}},{"kind":"Field","name":{"kind":"Name","value":"revokedAt"}}]}}]}}]} as unknown as DocumentNode<ApiKeysQuery, ApiKeysQueryVariables>;
export const CreateApiKeyDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CreateApiKey"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CreateApiKeyInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createApiKey"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"secret"}},{"kind":"Field","name":{"kind":"Name","value":"apiKey"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"prefix"}},{"kind":"Field","name":{"kind":"Name","value":"scopes"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"createdBy"}},{"kind":"Field","name":{"kind":"Name","value":"lastUsedAt"}},{"kind":"Field","name":{"kind":"Name","value":"revokedAt"}}]}}]}}]}}]} as unknown as DocumentNode<CreateApiKeyMutation, CreateApiKeyMutationVariables>;
export const RevokeApiKeyDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RevokeApiKey"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"RevokeApiKeyInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"revokeApiKey"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"prefix"}},{"kind":"Field","name":{"kind":"Name","value":"scopes"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"createdBy"}},{"kind":"Field","name":{"kind":"Name","value":"lastUsedAt"}},{"kind":"Field","name":{"kind":"Name","value":"revokedAt"}}]}}]}}]} as unknown as DocumentNode<RevokeApiKeyMutation, RevokeApiKeyMutationVariables>;
export const ClientAccountDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ClientAccount"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Account"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"billingEmail"}},{"kind":"Field","name":{"kind":"Name","value":"balances"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"available"}},{"kind":"Field","name":{"kind":"Name","value":"held"}},{"kind":"Field","name":{"kind":"Name","value":"owed"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}}]}}]}}]}}]} as unknown as DocumentNode<ClientAccountQuery, ClientAccountQueryVariables>;
export const ClientHistoryDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ClientHistory"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"accountId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"currency"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"history"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"accountId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"accountId"}}},{"kind":"Argument","name":{"kind":"Name","value":"currency"},"value":{"kind":"Variable","name":{"kind":"Name","value":"currency"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"20"}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"reference"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"runningBalance"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"actor"}},{"kind":"Field","name":{"kind":"Name","value":"reversedBy"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}}]}},{"kind":"Field","name":{"kind":"Name","value":"payment"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"provider"}},{"kind":"Field","name":{"kind":"Name","value":"providerRef"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"refunded"}}]}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}}]}}]} as unknown as DocumentNode<ClientHistoryQuery, ClientHistoryQueryVariables>;
export const ClientInvoicesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ClientInvoices"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"accountId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"invoices"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"accountId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"accountId"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"50"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"number"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"issuedAt"}},{"kind":"Field","name":{"kind":"Name","value":"dueAt"}},{"kind":"Field","name":{"kind":"Name","value":"voidReason"}}]}}]}}]}}]}}]} as unknown as DocumentNode<ClientInvoicesQuery, ClientInvoicesQueryVariables>;
export const AdjustBalanceDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"AdjustBalance"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"AdjustBalanceInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"adjustBalance"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"transaction"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"reference"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"runningBalance"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"actor"}},{"kind":"Field","name":{"kind":"Name","value":"reversedBy"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}}]}},{"kind":"Field","name":{"kind":"Name","value":"payment"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"provider"}},{"kind":"Field","name":{"kind":"Name","value":"providerRef"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"refunded"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"balance"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"available"}},{"kind":"Field","name":{"kind":"Name","value":"held"}},{"kind":"Field","name":{"kind":"Name","value":"owed"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}}]}}]}}]} as unknown as DocumentNode<AdjustBalanceMutation, AdjustBalanceMutationVariables>;
export const ReclaimCreditsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ReclaimCredits"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ReclaimCreditsInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"reclaimCredits"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"transaction"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"reference"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"runningBalance"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"actor"}},{"kind":"Field","name":{"kind":"Name","value":"reversedBy"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}}]}},{"kind":"Field","name":{"kind":"Name","value":"payment"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"provider"}},{"kind":"Field","name":{"kind":"Name","value":"providerRef"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"refunded"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"balance"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"available"}},{"kind":"Field","name":{"kind":"Name","value":"held"}},{"kind":"Field","name":{"kind":"Name","value":"owed"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}},{"kind":"Field","name":{"kind":"Name","value":"poolBalance"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"available"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}}]}}]}}]} as unknown as DocumentNode<ReclaimCreditsMutation, ReclaimCreditsMutationVariables>;
export const ReverseTransactionDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ReverseTransaction"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ReverseTransactionInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"reverseTransaction"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"transaction"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"reference"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"runningBalance"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"actor"}},{"kind":"Field","name":{"kind":"Name","value":"reversedBy"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}}]}},{"kind":"Field","name":{"kind":"Name","value":"payment"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"provider"}},{"kind":"Field","name":{"kind":"Name","value":"providerRef"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"refunded"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"balance"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"available"}},{"kind":"Field","name":{"kind":"Name","value":"held"}},{"kind":"Field","name":{"kind":"Name","value":"owed"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}},{"kind":"Field","name":{"kind":"Name","value":"poolBalance"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"available"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}},{"kind":"Field","name":{"kind":"Name","value":"invoice"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"number"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"issuedAt"}},{"kind":"Field","name":{"kind":"Name","value":"dueAt"}},{"kind":"Field","name":{"kind":"Name","value":"voidReason"}}]}}]}}]}}]} as unknown as DocumentNode<ReverseTransactionMutation, ReverseTransactionMutationVariables>;
export const RefundPaymentDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RefundPayment"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"RefundPaymentInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"refundPayment"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"transaction"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"reference"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"runningBalance"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"actor"}},{"kind":"Field","name":{"kind":"Name","value":"reversedBy"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}}]}},{"kind":"Field","name":{"kind":"Name","value":"payment"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"provider"}},{"kind":"Field","name":{"kind":"Name","value":"providerRef"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"refunded"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"balance"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"available"}},{"kind":"Field","name":{"kind":"Name","value":"held"}},{"kind":"Field","name":{"kind":"Name","value":"owed"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}},{"kind":"Field","name":{"kind":"Name","value":"payment"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"refunded"}}]}}]}}]}}]} as unknown as DocumentNode<RefundPaymentMutation, RefundPaymentMutationVariables>;
export const VoidInvoiceDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"VoidInvoice"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"VoidInvoiceInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"voidInvoice"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"number"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"issuedAt"}},{"kind":"Field","name":{"kind":"Name","value":"dueAt"}},{"kind":"Field","name":{"kind":"Name","value":"voidReason"}}]}}]}}]} as unknown as DocumentNode<VoidInvoiceMutation, VoidInvoiceMutationVariables>;
export const UpdateBillingDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"UpdateBilling"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UpdateBillingInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"updateBilling"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"invoiceDueDays"}},{"kind":"Field","name":{"kind":"Name","value":"bankDetails"}}]}}]}}]} as unknown as DocumentNode<UpdateBillingMutation, UpdateBillingMutationVariables>;
export const ViewerDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Viewer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"viewer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"userId"}},{"kind":"Field","name":{"kind":"Name","value":"role"}},{"kind":"Field","name":{"kind":"Name","value":"agency"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"defaultCurrency"}},{"kind":"Field","name":{"kind":"Name","value":"creditPaymentsEnabled"}},{"kind":"Field","name":{"kind":"Name","value":"invoiceDueDays"}},{"kind":"Field","name":{"kind":"Name","value":"bankDetails"}},{"kind":"Field","name":{"kind":"Name","value":"unpaidPostpaid"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}}]}},{"kind":"Field","name":{"kind":"Name","value":"poolAccount"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"balance"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"available"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}}]}}]}}]}}]}}]} as unknown as DocumentNode<ViewerQuery, ViewerQueryVariables>;
export const AccountsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Accounts"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"agency"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"accounts"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"50"}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"balances"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"available"}},{"kind":"Field","name":{"kind":"Name","value":"held"}},{"kind":"Field","name":{"kind":"Name","value":"owed"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}}]}}]}}]} as unknown as DocumentNode<AccountsQuery, AccountsQueryVariables>;
export const PendingDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Pending"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"requests"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"status"},"value":{"kind":"EnumValue","value":"PENDING"}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"100"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"method"}},{"kind":"Field","name":{"kind":"Name","value":"reference"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"paid"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"submittedBy"}},{"kind":"Field","name":{"kind":"Name","value":"reviewedAt"}},{"kind":"Field","name":{"kind":"Name","value":"reviewedBy"}},{"kind":"Field","name":{"kind":"Name","value":"rejectionReason"}},{"kind":"Field","name":{"kind":"Name","value":"account"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}}]}}]}}]}}]}}]}}]} as unknown as DocumentNode<PendingQuery, PendingQueryVariables>;
export const RecentDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Recent"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"requests"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"10"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"method"}},{"kind":"Field","name":{"kind":"Name","value":"reference"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"paid"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"submittedBy"}},{"kind":"Field","name":{"kind":"Name","value":"reviewedAt"}},{"kind":"Field","name":{"kind":"Name","value":"reviewedBy"}},{"kind":"Field","name":{"kind":"Name","value":"rejectionReason"}},{"kind":"Field","name":{"kind":"Name","value":"account"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}}]}}]}}]}}]}}]}}]} as unknown as DocumentNode<RecentQuery, RecentQueryVariables>;
export const ApproveDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"Approve"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ReviewRequestInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"approveRequest"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"request"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"method"}},{"kind":"Field","name":{"kind":"Name","value":"reference"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"paid"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"submittedBy"}},{"kind":"Field","name":{"kind":"Name","value":"reviewedAt"}},{"kind":"Field","name":{"kind":"Name","value":"reviewedBy"}},{"kind":"Field","name":{"kind":"Name","value":"rejectionReason"}},{"kind":"Field","name":{"kind":"Name","value":"account"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"balance"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"available"}},{"kind":"Field","name":{"kind":"Name","value":"held"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}}]}}]}}]} as unknown as DocumentNode<ApproveMutation, ApproveMutationVariables>;
export const RejectDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"Reject"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ReviewRequestInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"rejectRequest"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"request"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"method"}},{"kind":"Field","name":{"kind":"Name","value":"reference"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"paid"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"submittedBy"}},{"kind":"Field","name":{"kind":"Name","value":"reviewedAt"}},{"kind":"Field","name":{"kind":"Name","value":"reviewedBy"}},{"kind":"Field","name":{"kind":"Name","value":"rejectionReason"}},{"kind":"Field","name":{"kind":"Name","value":"account"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}}]}}]}}]}}]}}]} as unknown as DocumentNode<RejectMutation, RejectMutationVariables>;
export const MarkPaidDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"MarkPaid"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"MarkRequestPaidInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"markRequestPaid"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"request"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"method"}},{"kind":"Field","name":{"kind":"Name","value":"reference"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"paid"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"submittedBy"}},{"kind":"Field","name":{"kind":"Name","value":"reviewedAt"}},{"kind":"Field","name":{"kind":"Name","value":"reviewedBy"}},{"kind":"Field","name":{"kind":"Name","value":"rejectionReason"}},{"kind":"Field","name":{"kind":"Name","value":"account"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}}]}}]}}]}}]}}]} as unknown as DocumentNode<MarkPaidMutation, MarkPaidMutationVariables>;
export const AllocateDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"Allocate"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"AllocateCreditsInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"allocateCredits"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"transaction"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}}]}},{"kind":"Field","name":{"kind":"Name","value":"balance"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"available"}},{"kind":"Field","name":{"kind":"Name","value":"held"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}},{"kind":"Field","name":{"kind":"Name","value":"account"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"poolBalance"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"available"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}}]}}]}}]} as unknown as DocumentNode<AllocateMutation, AllocateMutationVariables>;
export const SettingsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"Settings"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UpdateAgencySettingsInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"updateAgencySettings"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"creditPaymentsEnabled"}}]}}]}}]} as unknown as DocumentNode<SettingsMutation, SettingsMutationVariables>;
export const OnRequestDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"OnRequest"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"creditRequestUpdated"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"method"}},{"kind":"Field","name":{"kind":"Name","value":"reference"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"paid"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"submittedBy"}},{"kind":"Field","name":{"kind":"Name","value":"reviewedAt"}},{"kind":"Field","name":{"kind":"Name","value":"reviewedBy"}},{"kind":"Field","name":{"kind":"Name","value":"rejectionReason"}},{"kind":"Field","name":{"kind":"Name","value":"account"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}}]}}]}}]}}]} as unknown as DocumentNode<OnRequestSubscription, OnRequestSubscriptionVariables>;
export const OnBalancesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"OnBalances"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"agencyBalanceUpdated"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"available"}},{"kind":"Field","name":{"kind":"Name","value":"held"}},{"kind":"Field","name":{"kind":"Name","value":"owed"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}},{"kind":"Field","name":{"kind":"Name","value":"account"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}}]}}]}}]}}]} as unknown as DocumentNode<OnBalancesSubscription, OnBalancesSubscriptionVariables>;
export const WebhookEndpointsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"WebhookEndpoints"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"webhookEndpoints"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"100"}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"url"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"events"}},{"kind":"Field","name":{"kind":"Name","value":"enabled"}},{"kind":"Field","name":{"kind":"Name","value":"disabledReason"}},{"kind":"Field","name":{"kind":"Name","value":"secretPrefix"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}}]}}]} as unknown as DocumentNode<WebhookEndpointsQuery, WebhookEndpointsQueryVariables>;
export const WebhookDeliveriesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"WebhookDeliveries"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"status"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"WebhookDeliveryStatus"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"WebhookEndpoint"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"deliveries"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"status"},"value":{"kind":"Variable","name":{"kind":"Name","value":"status"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"messageId"}},{"kind":"Field","name":{"kind":"Name","value":"eventType"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"attempts"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"lastAttemptAt"}},{"kind":"Field","name":{"kind":"Name","value":"nextAttemptAt"}},{"kind":"Field","name":{"kind":"Name","value":"responseCode"}},{"kind":"Field","name":{"kind":"Name","value":"latencyMs"}},{"kind":"Field","name":{"kind":"Name","value":"error"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}}]}}]}}]}}]} as unknown as DocumentNode<WebhookDeliveriesQuery, WebhookDeliveriesQueryVariables>;
export const CreateWebhookEndpointDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CreateWebhookEndpoint"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CreateWebhookEndpointInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createWebhookEndpoint"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"secret"}},{"kind":"Field","name":{"kind":"Name","value":"endpoint"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"url"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"events"}},{"kind":"Field","name":{"kind":"Name","value":"enabled"}},{"kind":"Field","name":{"kind":"Name","value":"disabledReason"}},{"kind":"Field","name":{"kind":"Name","value":"secretPrefix"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}}]}}]}}]} as unknown as DocumentNode<CreateWebhookEndpointMutation, CreateWebhookEndpointMutationVariables>;
export const UpdateWebhookEndpointDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"UpdateWebhookEndpoint"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UpdateWebhookEndpointInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"updateWebhookEndpoint"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"url"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"events"}},{"kind":"Field","name":{"kind":"Name","value":"enabled"}},{"kind":"Field","name":{"kind":"Name","value":"disabledReason"}},{"kind":"Field","name":{"kind":"Name","value":"secretPrefix"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}}]}}]} as unknown as DocumentNode<UpdateWebhookEndpointMutation, UpdateWebhookEndpointMutationVariables>;
export const RotateWebhookSecretDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RotateWebhookSecret"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"RotateWebhookSecretInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"rotateWebhookSecret"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"secret"}},{"kind":"Field","name":{"kind":"Name","value":"endpoint"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"url"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"events"}},{"kind":"Field","name":{"kind":"Name","value":"enabled"}},{"kind":"Field","name":{"kind":"Name","value":"disabledReason"}},{"kind":"Field","name":{"kind":"Name","value":"secretPrefix"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}}]}}]}}]} as unknown as DocumentNode<RotateWebhookSecretMutation, RotateWebhookSecretMutationVariables>;
export const RedeliverWebhookDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RedeliverWebhook"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"RedeliverWebhookInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"redeliverWebhook"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"messageId"}},{"kind":"Field","name":{"kind":"Name","value":"eventType"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"attempts"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"lastAttemptAt"}},{"kind":"Field","name":{"kind":"Name","value":"nextAttemptAt"}},{"kind":"Field","name":{"kind":"Name","value":"responseCode"}},{"kind":"Field","name":{"kind":"Name","value":"latencyMs"}},{"kind":"Field","name":{"kind":"Name","value":"error"}}]}}]}}]} as unknown as DocumentNode<RedeliverWebhookMutation, RedeliverWebhookMutationVariables>;