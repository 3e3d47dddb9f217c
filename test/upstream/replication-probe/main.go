// Command replication-probe opens AdminService/StreamWorkflowReplicationMessages on a Temporal
// frontend as a remote cluster's history service would (the cluster-shard headers of the server's
// own client/history package), and prints as JSON lines everything the stream gives: each
// WorkflowReplicationMessages batch (watermarks, tasks with their type, namespace and workflow ids)
// and the status it ends with. It exists to measure what a caller who passes the frontend's
// authorizer on this stream actually receives, and what the SyncReplicationState messages such a
// caller sends do to the server.
//
// Only the server module's own packages (and grpc, which it pins) are used, so the module's
// versions stay exactly the server's. The bearer token is read from standard input, never from the
// command line (process lists show arguments).
//
// Usage:
//
//	replication-probe -address 127.0.0.1:7233 -server-name frontend.example -ca ca.crt \
//	  [-cert tls.crt -key tls.key] [-token-stdin] \
//	  -client-cluster 1 -client-shard 1 -server-cluster 1 -server-shard 1 \
//	  [-sync 0] [-sync tiered:0] [-listen 2s]
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/server/api/adminservice/v1"
	replicationspb "go.temporal.io/server/api/replication/v1"
	historyclient "go.temporal.io/server/client/history"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// syncState is one SyncReplicationState to send: the single-stack shape (what the server runs with
// history.EnableReplicationTaskTieredProcessing off, the default) or the tiered one.
type syncState struct {
	watermark int64
	tiered    bool
}

type syncList []syncState

func (l *syncList) String() string { return fmt.Sprint(*l) }

func (l *syncList) Set(v string) error {
	s := syncState{}
	if rest, ok := strings.CutPrefix(v, "tiered:"); ok {
		s.tiered = true
		v = rest
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return fmt.Errorf("-sync %q: want an int64 watermark, optionally prefixed with tiered:", v)
	}
	s.watermark = n
	*l = append(*l, s)
	return nil
}

type out struct {
	mu      sync.Mutex
	started time.Time
	enc     *json.Encoder
}

func (o *out) emit(event string, fields map[string]any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fields["event"] = event
	fields["ms"] = time.Since(o.started).Milliseconds()
	_ = o.enc.Encode(fields)
}

// taskSummary is what a replication task reveals: its type and ids, collected from the task's JSON
// form so every attribute type (history events, activity state, workflow state, HSM...) is covered.
func taskSummary(t *replicationspb.ReplicationTask) map[string]any {
	ids := map[string]map[string]bool{"namespaceId": {}, "workflowId": {}, "runId": {}}
	raw, _ := protojson.Marshal(t)
	var tree any
	_ = json.Unmarshal(raw, &tree)
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, child := range x {
				if set, ok := ids[k]; ok {
					if s, ok := child.(string); ok && s != "" {
						set[s] = true
					}
				}
				walk(child)
			}
		case []any:
			for _, child := range x {
				walk(child)
			}
		}
	}
	walk(tree)
	list := func(set map[string]bool) []string {
		l := make([]string, 0, len(set))
		for k := range set {
			l = append(l, k)
		}
		sort.Strings(l)
		return l
	}
	return map[string]any{
		"taskType":     t.GetTaskType().String(),
		"sourceTaskId": t.GetSourceTaskId(),
		"namespaceIds": list(ids["namespaceId"]),
		"workflowIds":  list(ids["workflowId"]),
		"runIds":       list(ids["runId"]),
		"bytes":        len(raw),
	}
}

func syncRequest(s syncState) *adminservice.StreamWorkflowReplicationMessagesRequest {
	state := &replicationspb.SyncReplicationState{InclusiveLowWatermark: s.watermark, InclusiveLowWatermarkTime: timestamppb.Now()}
	if s.tiered {
		state.HighPriorityState = &replicationspb.ReplicationState{InclusiveLowWatermark: s.watermark, InclusiveLowWatermarkTime: timestamppb.Now()}
		state.LowPriorityState = &replicationspb.ReplicationState{InclusiveLowWatermark: s.watermark, InclusiveLowWatermarkTime: timestamppb.Now()}
	}
	return &adminservice.StreamWorkflowReplicationMessagesRequest{
		Attributes: &adminservice.StreamWorkflowReplicationMessagesRequest_SyncReplicationState{SyncReplicationState: state},
	}
}

func tlsConfig(caFile, certFile, keyFile, serverName string) (*tls.Config, error) {
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	cfg := &tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

func main() {
	address := flag.String("address", "", "the frontend's host:port")
	serverName := flag.String("server-name", "", "TLS server name the frontend's certificate carries")
	caFile := flag.String("ca", "", "PEM trust bundle for the frontend's certificate")
	certFile := flag.String("cert", "", "client certificate chain (PEM); empty: present none")
	keyFile := flag.String("key", "", "client private key (PEM)")
	tokenStdin := flag.Bool("token-stdin", false, "read a bearer token from standard input")
	noShardHeaders := flag.Bool("no-shard-headers", false, "send none of the cluster-shard headers")
	clientCluster := flag.Int("client-cluster", 1, "temporal-client-cluster-id: the caller's cluster id (a cluster's initialFailoverVersion)")
	clientShard := flag.Int("client-shard", 1, "temporal-client-shard-id")
	serverCluster := flag.Int("server-cluster", 1, "temporal-server-cluster-id: the id of the cluster streamed from")
	serverShard := flag.Int("server-shard", 1, "temporal-server-shard-id: the history shard streamed from")
	listen := flag.Duration("listen", 2*time.Second, "how long to keep the stream open")
	var syncs syncList
	flag.Var(&syncs, "sync", "a SyncReplicationState to send once the first message arrived (repeatable): <watermark> or tiered:<watermark>")
	flag.Parse()

	o := &out{started: time.Now(), enc: json.NewEncoder(os.Stdout)}
	fail := func(err error) {
		o.emit("error", map[string]any{"message": err.Error()})
		os.Exit(2)
	}
	if *address == "" || *caFile == "" {
		fail(errors.New("-address and -ca are required"))
	}
	cfg, err := tlsConfig(*caFile, *certFile, *keyFile, *serverName)
	if err != nil {
		fail(err)
	}
	token := ""
	if *tokenStdin {
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			fail(err)
		}
		token = strings.TrimSpace(string(b))
	}

	conn, err := grpc.NewClient(*address, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		fail(err)
	}
	defer func() { _ = conn.Close() }()

	md := metadata.MD{}
	if !*noShardHeaders {
		md = historyclient.EncodeClusterShardMD(
			historyclient.ClusterShardID{ClusterID: int32(*clientCluster), ShardID: int32(*clientShard)},
			historyclient.ClusterShardID{ClusterID: int32(*serverCluster), ShardID: int32(*serverShard)},
		)
	}
	if token != "" {
		md = metadata.Join(md, metadata.Pairs("authorization", "Bearer "+token))
	}
	ctx, cancel := context.WithCancel(metadata.NewOutgoingContext(context.Background(), md))
	defer cancel()

	o.emit("open", map[string]any{
		"clientCluster": *clientCluster, "clientShard": *clientShard, "serverCluster": *serverCluster, "serverShard": *serverShard,
		"shardHeaders": !*noShardHeaders, "clientCertificate": *certFile != "", "token": token != "",
	})
	stream, err := adminservice.NewAdminServiceClient(conn).StreamWorkflowReplicationMessages(ctx)
	if err != nil {
		st := status.Convert(err)
		o.emit("end", map[string]any{"how": "open-failed", "code": st.Code().String(), "message": st.Message(), "messages": 0, "tasks": 0})
		return
	}

	type result struct {
		err error
	}
	firstMessage := make(chan struct{})
	done := make(chan result, 1)
	var messages, taskCount atomic.Int64
	go func() {
		var once sync.Once
		for {
			resp, err := stream.Recv()
			if err != nil {
				done <- result{err}
				return
			}
			batch := resp.GetMessages()
			tasks := make([]map[string]any, 0, len(batch.GetReplicationTasks()))
			for _, t := range batch.GetReplicationTasks() {
				tasks = append(tasks, taskSummary(t))
			}
			messages.Add(1)
			taskCount.Add(int64(len(tasks)))
			o.emit("message", map[string]any{
				"exclusiveHighWatermark":     batch.GetExclusiveHighWatermark(),
				"exclusiveHighWatermarkTime": batch.GetExclusiveHighWatermarkTime().AsTime().UTC().Format(time.RFC3339Nano),
				"priority":                   batch.GetPriority().String(),
				"tasks":                      tasks,
			})
			once.Do(func() { close(firstMessage) })
		}
	}()

	// A receiver acknowledges what it has: SyncReplicationState goes out once the first batch arrived
	// (or after a second without one), as a remote cluster's stream receiver would.
	go func() {
		if len(syncs) == 0 {
			return
		}
		select {
		case <-firstMessage:
		case <-time.After(time.Second):
		case <-ctx.Done():
			return
		}
		for _, s := range syncs {
			err := stream.Send(syncRequest(s))
			fields := map[string]any{"inclusiveLowWatermark": s.watermark, "tiered": s.tiered}
			if err != nil {
				fields["error"] = err.Error()
			}
			o.emit("sent", fields)
			time.Sleep(200 * time.Millisecond)
		}
	}()

	select {
	case r := <-done:
		how, code, message := "closed-by-server", "OK", ""
		if !errors.Is(r.err, io.EOF) {
			st := status.Convert(r.err)
			how, code, message = "failed", st.Code().String(), st.Message()
		}
		o.emit("end", map[string]any{"how": how, "code": code, "message": message, "messages": messages.Load(), "tasks": taskCount.Load()})
	case <-time.After(*listen):
		cancel()
		o.emit("end", map[string]any{"how": "still-open", "code": "", "message": "", "messages": messages.Load(), "tasks": taskCount.Load()})
	}
}
