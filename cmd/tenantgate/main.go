// Command tenantgate runs the multi-tenant search gateway and its tools.
//
//	tenantgate [serve] [--config FILE]     run the gateway
//	tenantgate token --sub alice --roles analyst,reader --ttl 1h
//	tenantgate keygen --out FILE           write a new HMAC signing key
//	tenantgate version
package main

import (
	"os"

	"github.com/tenantgate/tenantgate/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
