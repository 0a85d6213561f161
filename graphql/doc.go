// Package graphql will hold the GraphQL API for educator communities:
// community, collection and resource, threads, comments, likes, follows and
// flags, with cursor pagination, batched loading and subscriptions.
package graphql
