// Command oracle answers, for one call at a time, what Temporal server v1.31.2's own authorization
// code decides: the default JWT claim mapper (with the default token key provider, which fetches a
// real JWKS over HTTP) and the default authorizer, driven through the server's authorization
// interceptor exactly as the frontend drives them. Nothing of go.temporal.io/server/common/authorization
// is re-implemented here: this program only builds the inputs (gRPC metadata, the real request
// message of the method, an HTTP header for Nexus) and records what the server's code returns.
//
// Usage:
//
//	oracle -jwks-uri http://127.0.0.1:PORT/keys     JSON lines on stdin, one answer per line on stdout; exits on EOF
//	oracle -list                                    the server's method table and the frontend's gRPC methods, as JSON
//
// An input line:
//
//	{"id":1,"authorization":"Bearer ...","audience":"api","permissionsClaimName":"roles",
//	 "permissionsRegex":"","method":"/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution",
//	 "namespace":"payments","call":"unary","now":1700000000}
//
// "authorization" absent means no header; "call" is "unary" (the unary interceptor, audience from the
// server's audience mapper, namespace from the request message), "stream" (the stream interceptor:
// no request at stream start, so no audience and no namespace) or "nexus" (the Nexus HTTP handlers'
// sequence: GetAuthInfo with an empty audience, GetClaims, Authorize with the namespace of the URL).
// "now" (Unix seconds, optional) sets golang-jwt's clock so both sides judge time claims at the same instant.
package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"
	_ "unsafe" // go:linkname, to read the server's unexported method table (see methodTable)

	"github.com/golang-jwt/jwt/v4"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/api/adminservice/v1"
	"go.temporal.io/server/common/api"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/common/namespace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/emptypb"
)

type request struct {
	ID                   int     `json:"id"`
	Authorization        *string `json:"authorization"`
	Audience             string  `json:"audience"`
	PermissionsClaimName string  `json:"permissionsClaimName"`
	PermissionsRegex     string  `json:"permissionsRegex"`
	Method               string  `json:"method"`
	Namespace            string  `json:"namespace"`
	Call                 string  `json:"call"`
	Now                  int64   `json:"now"`
}

type namespaceRole struct {
	// The namespace key's bytes, hex: compared byte for byte with the validator's.
	Hex  string `json:"hex"`
	Role int    `json:"role"`
}

type response struct {
	ID int `json:"id"`
	// "accepted", "rejected", or "not-called" (no header: the interceptor builds no AuthInfo).
	Mapper string `json:"mapper"`
	Error  string `json:"error,omitempty"`
	// The audience the mapper was handed in AuthInfo (what the interceptor chose).
	AudienceSeen string          `json:"audienceSeen"`
	SubjectHex   string          `json:"subjectHex"`
	System       int             `json:"system"`
	Namespaces   []namespaceRole `json:"namespaces"`
	// Whether the authorizer ran, and the namespace of the CallTarget it was given.
	Authorized          bool   `json:"authorized"`
	AuthorizedNamespace string `json:"authorizedNamespace"`
	// "allow" when the call would reach its handler, else "deny".
	Decision string `json:"decision"`
	// False for a gRPC path the frontend does not serve: grpc-go answers Unimplemented before any interceptor runs.
	Routed bool `json:"routed"`
}

// recordingMapper hands every call to the server's claim mapper and keeps what it returned.
type recordingMapper struct {
	inner  authorization.ClaimMapper
	called bool
	seen   string
	claims *authorization.Claims
	err    error
}

func (r *recordingMapper) GetClaims(ai *authorization.AuthInfo) (*authorization.Claims, error) {
	r.called = true
	r.seen = ai.Audience
	r.claims, r.err = r.inner.GetClaims(ai)
	return r.claims, r.err
}

// recordingAuthorizer hands every call to the server's default authorizer and keeps the target.
type recordingAuthorizer struct {
	inner     authorization.Authorizer
	called    bool
	namespace string
}

func (r *recordingAuthorizer) Authorize(ctx context.Context, c *authorization.Claims, t *authorization.CallTarget) (authorization.Result, error) {
	r.called = true
	r.namespace = t.Namespace
	return r.inner.Authorize(ctx, c, t)
}

// noNamespaces: the metrics tag lookup of the interceptor asks whether a namespace exists.
type noNamespaces struct{}

func (noNamespaces) Exists(name namespace.Name) error {
	return fmt.Errorf("namespace %q not found", name)
}

// serverStream is the stream the stream interceptor sees: only its context is read.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s serverStream) Context() context.Context { return s.ctx }

type oracle struct {
	provider authorization.TokenKeyProvider
	mappers  map[[2]string]authorization.ClaimMapper
	dc       *dynamicconfig.Collection
}

func (o *oracle) mapper(claimName, regex string) authorization.ClaimMapper {
	key := [2]string{claimName, regex}
	if m, ok := o.mappers[key]; ok {
		return m
	}
	cfg := &config.Authorization{PermissionsClaimName: claimName, PermissionsRegex: regex}
	m := authorization.NewDefaultJWTClaimMapper(o.provider, cfg, log.NewNoopLogger())
	o.mappers[key] = m
	return m
}

// newRequest is the real request message of a gRPC method, with its namespace field set when it has
// one; methods without a descriptor (unknown ones) get an empty message.
func newRequest(method, ns string) any {
	svc, name, ok := strings.Cut(strings.TrimPrefix(method, "/"), "/")
	if !ok {
		return &emptypb.Empty{}
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		return &emptypb.Empty{}
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return &emptypb.Empty{}
	}
	md := sd.Methods().ByName(protoreflect.Name(name))
	if md == nil {
		return &emptypb.Empty{}
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
	if err != nil {
		return &emptypb.Empty{}
	}
	msg := mt.New()
	if f := msg.Descriptor().Fields().ByName("namespace"); f != nil && f.Kind() == protoreflect.StringKind && f.Cardinality() != protoreflect.Repeated {
		msg.Set(f, protoreflect.ValueOfString(ns))
	}
	return msg.Interface()
}

func (o *oracle) answer(in request) response {
	if in.Now != 0 {
		now := time.Unix(in.Now, 0)
		jwt.TimeFunc = func() time.Time { return now }
	} else {
		jwt.TimeFunc = time.Now
	}
	rm := &recordingMapper{inner: o.mapper(in.PermissionsClaimName, in.PermissionsRegex)}
	ra := &recordingAuthorizer{inner: authorization.NewDefaultAuthorizer()}
	ic := authorization.NewInterceptor(
		rm,
		ra,
		metrics.NoopMetricsHandler,
		log.NewNoopLogger(),
		noNamespaces{},
		authorization.NewAudienceMapper(in.Audience),
		"", // authHeaderName: the default, "authorization"
		"",
		dynamicconfig.ExposeAuthorizerErrors.Get(o.dc),
		dynamicconfig.EnableCrossNamespaceCommands.Get(o.dc),
		dynamicconfig.EnablePrincipalPropagation.Get(o.dc),
		dynamicconfig.DisableStreamingAuthorizer.Get(o.dc),
	)
	out := response{ID: in.ID, Mapper: "not-called", Decision: "deny", Namespaces: []namespaceRole{}, Routed: true}
	if in.Call != "nexus" && !served[in.Method] {
		out.Routed = false
		return out
	}
	md := metadata.MD{}
	if in.Authorization != nil {
		md.Append("authorization", *in.Authorization)
	}
	ctx := metadata.NewIncomingContext(context.Background(), md)
	reached := false
	var err error
	switch in.Call {
	case "unary":
		_, err = ic.Intercept(ctx, newRequest(in.Method, in.Namespace), &grpc.UnaryServerInfo{FullMethod: in.Method}, func(context.Context, any) (any, error) {
			reached = true
			return nil, nil
		})
	case "stream":
		err = ic.InterceptStream(nil, serverStream{ctx: ctx}, &grpc.StreamServerInfo{FullMethod: in.Method, IsClientStream: true, IsServerStream: true}, func(any, grpc.ServerStream) error {
			reached = true
			return nil
		})
	case "nexus":
		// service/frontend/nexus_http_handler.go and components/nexusoperations/frontend/handler.go:
		// GetAuthInfo with an empty audience ("TODO: support audience getter"), GetClaims, Authorize.
		h := http.Header{}
		if in.Authorization != nil {
			h.Set("Authorization", *in.Authorization)
		}
		var claims *authorization.Claims
		if ai := ic.GetAuthInfo(nil, h, func() string { return "" }); ai != nil {
			claims, err = ic.GetClaims(ai)
		}
		if err == nil {
			_, err = ic.Authorize(ctx, claims, &authorization.CallTarget{APIName: in.Method, Namespace: in.Namespace})
			reached = err == nil
		}
	default:
		fmt.Fprintf(os.Stderr, "oracle: line %d: call must be unary, stream or nexus (got %q)\n", in.ID, in.Call)
		os.Exit(2)
	}
	if reached && err == nil {
		out.Decision = "allow"
	}
	if rm.called {
		out.AudienceSeen = rm.seen
		if rm.err != nil {
			out.Mapper = "rejected"
			out.Error = rm.err.Error()
		} else {
			out.Mapper = "accepted"
			out.SubjectHex = hex.EncodeToString([]byte(rm.claims.Subject))
			out.System = int(rm.claims.System)
			for ns, role := range rm.claims.Namespaces {
				out.Namespaces = append(out.Namespaces, namespaceRole{Hex: hex.EncodeToString([]byte(ns)), Role: int(role)})
			}
			sort.Slice(out.Namespaces, func(i, j int) bool { return out.Namespaces[i].Hex < out.Namespaces[j].Hex })
		}
	}
	out.Authorized = ra.called
	out.AuthorizedNamespace = ra.namespace
	return out
}

// The server's method table (common/api/metadata.go) is unexported; it is read, not copied, through
// the linker, so the listing is exactly what this build's GetMethodMetadata consults.
//
//go:linkname workflowServiceMetadata go.temporal.io/server/common/api.workflowServiceMetadata
var workflowServiceMetadata map[string]api.MethodMetadata

//go:linkname operatorServiceMetadata go.temporal.io/server/common/api.operatorServiceMetadata
var operatorServiceMetadata map[string]api.MethodMetadata

//go:linkname nexusServiceMetadata go.temporal.io/server/common/api.nexusServiceMetadata
var nexusServiceMetadata map[string]api.MethodMetadata

type tableEntry struct {
	API    string `json:"api"`
	Scope  string `json:"scope"`
	Access string `json:"access"`
}

type grpcMethod struct {
	API    string `json:"api"`
	Stream bool   `json:"stream"`
	// The request message has a string field "namespace" (what the interceptor authorizes on).
	HasNamespace bool `json:"hasNamespace"`
}

type listing struct {
	Table []tableEntry `json:"table"`
	// Every method of the gRPC services the frontend serves (WorkflowService, OperatorService,
	// AdminService, Health, ServerReflection v1 and v1alpha), from their service descriptors.
	GRPC []grpcMethod `json:"grpc"`
}

func scopeName(s api.Scope) string {
	switch s {
	case api.ScopeNamespace:
		return "Namespace"
	case api.ScopeCluster:
		return "Cluster"
	}
	return "Unknown"
}

func accessName(a api.Access) string {
	switch a {
	case api.AccessReadOnly:
		return "ReadOnly"
	case api.AccessWrite:
		return "Write"
	case api.AccessAdmin:
		return "Admin"
	}
	return "Unknown"
}

// The gRPC services the frontend registers (service/frontend/service.go Start: health, workflow,
// admin, operator, and reflection.Register's two versions); grpc-go routes only their methods.
var frontendServices = []grpc.ServiceDesc{
	workflowservice.WorkflowService_ServiceDesc,
	operatorservice.OperatorService_ServiceDesc,
	adminservice.AdminService_ServiceDesc,
	grpc_health_v1.Health_ServiceDesc,
	reflectionv1.ServerReflection_ServiceDesc,
	reflectionv1alpha.ServerReflection_ServiceDesc,
}

var served = func() map[string]bool {
	m := map[string]bool{}
	for _, sd := range frontendServices {
		for _, x := range sd.Methods {
			m["/"+sd.ServiceName+"/"+x.MethodName] = true
		}
		for _, x := range sd.Streams {
			m["/"+sd.ServiceName+"/"+x.StreamName] = true
		}
	}
	return m
}()

func list() listing {
	var l listing
	for _, t := range []struct {
		prefix string
		table  map[string]api.MethodMetadata
	}{{api.WorkflowServicePrefix, workflowServiceMetadata}, {api.OperatorServicePrefix, operatorServiceMetadata}, {api.NexusServicePrefix, nexusServiceMetadata}} {
		for name := range t.table {
			full := t.prefix + name
			// Through GetMethodMetadata, the function the default authorizer calls.
			m := api.GetMethodMetadata(full)
			l.Table = append(l.Table, tableEntry{API: full, Scope: scopeName(m.Scope), Access: accessName(m.Access)})
		}
	}
	sort.Slice(l.Table, func(i, j int) bool { return l.Table[i].API < l.Table[j].API })
	for _, sd := range frontendServices {
		for _, m := range sd.Methods {
			full := "/" + sd.ServiceName + "/" + m.MethodName
			_, hasNs := newRequest(full, "x").(interface{ GetNamespace() string })
			l.GRPC = append(l.GRPC, grpcMethod{API: full, HasNamespace: hasNs})
		}
		for _, s := range sd.Streams {
			l.GRPC = append(l.GRPC, grpcMethod{API: "/" + sd.ServiceName + "/" + s.StreamName, Stream: true})
		}
	}
	sort.Slice(l.GRPC, func(i, j int) bool { return l.GRPC[i].API < l.GRPC[j].API })
	return l
}

func main() {
	jwksURIs := flag.String("jwks-uri", "", "JWKS URL(s) for the default token key provider, comma-separated")
	listOnly := flag.Bool("list", false, "print the server's method table and the frontend's gRPC methods as JSON, then exit")
	flag.Parse()
	if *listOnly {
		if err := json.NewEncoder(os.Stdout).Encode(list()); err != nil {
			fmt.Fprintf(os.Stderr, "oracle: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if *jwksURIs == "" {
		fmt.Fprintln(os.Stderr, "oracle: -jwks-uri is required")
		os.Exit(2)
	}
	// The server's default token key provider, as GetClaimMapperFromConfig builds it: it fetches the
	// key sets once now; no refresh ticker (RefreshInterval 0), so the keys cannot change mid-run.
	authCfg := &config.Authorization{JWTKeyProvider: config.JWTKeyProvider{KeySourceURIs: strings.Split(*jwksURIs, ",")}}
	o := &oracle{
		provider: authorization.NewDefaultTokenKeyProvider(authCfg, log.NewNoopLogger()),
		mappers:  map[[2]string]authorization.ClaimMapper{},
		dc:       dynamicconfig.NewNoopCollection(),
	}
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	enc := json.NewEncoder(out)
	for {
		line, err := in.ReadBytes('\n')
		if len(strings.TrimSpace(string(line))) > 0 {
			var req request
			if jerr := json.Unmarshal(line, &req); jerr != nil {
				fmt.Fprintf(os.Stderr, "oracle: bad input line: %v\n", jerr)
				os.Exit(2)
			}
			if eerr := enc.Encode(o.answer(req)); eerr != nil {
				fmt.Fprintf(os.Stderr, "oracle: %v\n", eerr)
				os.Exit(1)
			}
		}
		// Answer as soon as the caller stops writing, not only when the buffer fills.
		if in.Buffered() == 0 || err != nil {
			if ferr := out.Flush(); ferr != nil {
				os.Exit(1)
			}
		}
		if err != nil {
			return
		}
	}
}
