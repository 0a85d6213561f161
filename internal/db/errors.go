package db

import (
	"database/sql"
	"errors"
	"regexp"

	"github.com/uptrace/bun/driver/pgdriver"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/commonroom/commonroom/internal/errkind"
)

// ConstraintKind says which kind of database constraint an error broke.
type ConstraintKind uint8

// The constraint kinds the two databases report.
const (
	NoConstraint ConstraintKind = iota // the error is not a constraint violation
	Unique                             // a unique index or primary key
	ForeignKey                         // a foreign key
	Check                              // a CHECK constraint
	NotNull                            // a NOT NULL column
)

// Violation describes a broken constraint.
type Violation struct {
	Kind ConstraintKind
	// Name is the constraint or index name when the database reports it
	// (PostgreSQL always does; SQLite does for named indexes and CHECK
	// constraints), otherwise the "table.column" SQLite names.
	Name string
}

// sqliteNames pulls the name out of SQLite's constraint messages:
// "UNIQUE constraint failed: index 'x'", "UNIQUE constraint failed: t.a, t.b",
// "CHECK constraint failed: x".
var sqliteNames = regexp.MustCompile(`.*constraint failed: (?:index '([^']+)'|(.+?))(?: \(\d+\))?$`)

// ConstraintOf reports whether err (anywhere in its chain) is a constraint
// violation from SQLite or PostgreSQL, and which.
func ConstraintOf(err error) (Violation, bool) {
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		v := Violation{Name: pgErr.Field('n')}
		switch pgErr.Field('C') {
		case "23505":
			v.Kind = Unique
		case "23503":
			v.Kind = ForeignKey
		case "23514":
			v.Kind = Check
		case "23502":
			v.Kind = NotNull
			if v.Name == "" {
				v.Name = pgErr.Field('t') + "." + pgErr.Field('c')
			}
		default:
			return Violation{}, false
		}
		return v, true
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		var v Violation
		switch sqErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			v.Kind = Unique
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			v.Kind = ForeignKey
		case sqlite3.SQLITE_CONSTRAINT_CHECK:
			v.Kind = Check
		case sqlite3.SQLITE_CONSTRAINT_NOTNULL:
			v.Kind = NotNull
		default:
			return Violation{}, false
		}
		if m := sqliteNames.FindStringSubmatch(sqErr.Error()); m != nil {
			v.Name = m[1] + m[2]
		}
		return v, true
	}
	return Violation{}, false
}

// MapError gives a database error its error kind: a unique or foreign-key
// violation becomes Conflict (the row clashes with rows already stored), a
// CHECK or NOT NULL violation becomes Invalid (the input broke a rule that
// validation should have caught), sql.ErrNoRows becomes NotFound, and
// anything else is returned unchanged (Internal). msg is the client-safe
// message; nil stays nil.
func MapError(err error, msg string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return errkind.Wrap(errkind.NotFound, msg, err)
	}
	v, ok := ConstraintOf(err)
	if !ok {
		return err
	}
	switch v.Kind {
	case Unique, ForeignKey:
		return errkind.Wrap(errkind.Conflict, msg, err)
	default:
		return errkind.Wrap(errkind.Invalid, msg, err)
	}
}
