package credits

import (
	"strings"
	"unicode/utf8"

	"creditgate/ent/account"
	"creditgate/ent/agency"
	"creditgate/ent/auditevent"
	"creditgate/ent/creditpackage"
	"creditgate/ent/creditrequest"
	"creditgate/ent/invoice"
	"creditgate/ent/posting"
	"creditgate/ent/service"
)

// Length limits on text count characters, not bytes: a 200-character name
// is accepted whatever script it is written in. The domain checks count
// runes; ent's generated MaxLen validators count bytes (MaxRuneLen would
// need the schema regenerated), so they are made to count runes here, by
// handing them a stand-in of one byte per character. Their other checks
// (NotEmpty) see the same emptiness. The columns agree: PostgreSQL's
// varchar(n) counts characters, SQLite does not bound text.
func init() {
	for _, v := range []*func(string) error{
		&account.NameValidator,
		&agency.NameValidator,
		&service.NameValidator,
		&creditpackage.NameValidator,
		&invoice.NumberValidator,
		&creditrequest.ReferenceValidator,
		&creditrequest.RejectionReasonValidator,
		&posting.ReferenceValidator,
		&invoice.VoidReasonValidator,
		&invoice.BankDetailsValidator,
		&agency.BankDetailsValidator,
		&auditevent.SummaryValidator, // audit truncates summaries to 1000 characters
	} {
		*v = countingRunes(*v)
	}
}

// countingRunes wraps a byte-counting length validator so that it counts
// characters.
func countingRunes(validate func(string) error) func(string) error {
	if validate == nil {
		return nil
	}
	return func(s string) error {
		n := utf8.RuneCountInString(s)
		if n == len(s) {
			return validate(s)
		}
		return validate(strings.Repeat("x", n))
	}
}

// poolName names an agency's pool account after the agency, within the
// 200 characters of an account name.
func poolName(agency string) string {
	const suffix, max = " pool", 200
	if r := []rune(agency); len(r) > max-len(suffix) {
		agency = string(r[:max-len(suffix)])
	}
	return agency + suffix
}
