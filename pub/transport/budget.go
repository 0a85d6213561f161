package transport

import (
	"context"
	"fmt"
	"sync/atomic"
)

// budget is a count of HTTP requests an operation may still make. Nested
// budgets point at their parent, and a request spends from every level, so
// an inner budget can never exceed an outer one.
type budget struct {
	limit     int64
	remaining atomic.Int64
	parent    *budget
}

type budgetKey struct{}

// WithBudget returns a context that allows at most n more HTTP requests
// through any [Client], counting every request: redirect hops and the
// refetch [Client.Dereference] may make each spend one. Once spent, requests
// fail fast with [ErrBudgetExhausted] and nothing is sent. Requests that are
// never sent (local origins, invalid URLs) spend nothing.
//
// The pub core wraps the handling of one inbound activity in WithBudget(ctx,
// 20) (Lemmy's http_fetch_limit), and so bounds reply-chain walks and other
// recursive fetching. A budget inside a budget spends from both, so it never
// allows more than the outer one has left. Without a budget in the context,
// requests are not counted. The budget is safe for concurrent use by the
// goroutines sharing the context; n < 0 is treated as 0.
func WithBudget(ctx context.Context, n int) context.Context {
	if n < 0 {
		n = 0
	}
	b := &budget{limit: int64(n)}
	b.remaining.Store(int64(n))
	if parent, ok := ctx.Value(budgetKey{}).(*budget); ok {
		b.parent = parent
	}
	return context.WithValue(ctx, budgetKey{}, b)
}

// BudgetRemaining returns how many requests the innermost budget in ctx
// still allows (never more than any enclosing budget), and false when ctx
// carries no budget.
func BudgetRemaining(ctx context.Context) (int, bool) {
	b, ok := ctx.Value(budgetKey{}).(*budget)
	if !ok {
		return 0, false
	}
	least := b.remaining.Load()
	for p := b.parent; p != nil; p = p.parent {
		least = min(least, p.remaining.Load())
	}
	return int(max(least, 0)), true
}

// spendBudget takes one request from every budget in ctx.
func spendBudget(ctx context.Context) error {
	b, ok := ctx.Value(budgetKey{}).(*budget)
	if !ok {
		return nil
	}
	for level := b; level != nil; level = level.parent {
		if level.remaining.Add(-1) < 0 {
			return fmt.Errorf("%w: limit of %d requests reached", ErrBudgetExhausted, level.limit)
		}
	}
	return nil
}
