// Package namespaces keeps Kestra-style namespaces of one tenant: a
// description, variables, plugin defaults and encrypted secrets, in the
// logical index ".namespaces" of the tenant's system view.
//
// A namespace is named like a flow namespace (lower-case letters,
// digits, ".", "_" and "-", at most 150 characters). Its ancestors are the
// namespaces named by its dot-separated prefixes: "company.marketing" and
// "company" for "company.marketing.emea". Ancestors need not exist.
//
// Effective merges what a namespace inherits: variables (the nearest
// definition wins, nested maps merged key by key) and plugin defaults
// (one per type; the nearest wins, except that a forced default of an
// ancestor beats anything nearer). Secrets are inherited the same way:
// Secrets lists the keys a namespace sees and where each comes from, and
// SecretValue resolves and decrypts one for the worker.
//
// Secret values are stored only as ciphertext sealed by secrets.Key with
// the additional data secrets.AAD(tenant, namespace, key), so a
// ciphertext copied to another tenant, namespace or key does not
// decrypt. No method returns a secret value except SecretValue, and no
// error contains one. A Store made without a key refuses to write
// secrets (ErrNoKey). Each sealed secret records the fingerprint of the
// key that sealed it (secrets.Key.Fingerprint); CheckKey, run at
// start-up over every tenant, refuses a missing or different
// secrets.encryption_key while any secret is stored.
//
// Create and CreateWith make a namespace, Change (and its shorthands
// Update, PutVariables, PutPluginDefaults) replaces parts of it in one
// write; Changes says which.
//
// Build a Store with NewStore over one tenant's system view
// (index.Service's SystemView); the view is the only tenant scoping.
package namespaces
