package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/soteai/gateway/cmd/assistd/internal/metrics"
	"github.com/soteai/gateway/cmd/internal/config"
	"github.com/soteai/gateway/models"
)

const deployDir = "../../deploy"

// TestKubernetesManifests decodes every manifest strictly into the
// Kubernetes API types (an unknown or misspelt field fails), then checks
// what the operations guide promises: non-root, read-only root filesystem,
// probes on /healthz and /readyz, secrets as files, a migration Job run by
// the owner role, a PodDisruptionBudget that selects the gateway, and a
// configuration the gateway accepts.
func TestKubernetesManifests(t *testing.T) {
	dir := filepath.Join(deployDir, "kubernetes")
	var kust struct {
		Resources []string `json:"resources"`
	}
	readYAML(t, filepath.Join(dir, "kustomization.yaml"), &kust)
	objs := map[string]any{}
	for _, f := range kust.Resources {
		raw, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range bytes.Split(raw, []byte("\n---")) {
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			var meta struct{ Kind, APIVersion string }
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var obj any
			switch meta.APIVersion + "/" + meta.Kind {
			case "apps/v1/Deployment":
				obj = &appsv1.Deployment{}
			case "batch/v1/Job":
				obj = &batchv1.Job{}
			case "v1/Service":
				obj = &corev1.Service{}
			case "v1/ConfigMap":
				obj = &corev1.ConfigMap{}
			case "v1/ServiceAccount":
				obj = &corev1.ServiceAccount{}
			case "policy/v1/PodDisruptionBudget":
				obj = &policyv1.PodDisruptionBudget{}
			case "networking.k8s.io/v1/NetworkPolicy":
				obj = &networkingv1.NetworkPolicy{}
			default:
				t.Fatalf("%s: unexpected kind %s %s", f, meta.APIVersion, meta.Kind)
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				t.Fatalf("%s: not a valid %s: %v", f, meta.Kind, err)
			}
			objs[meta.Kind] = obj
		}
	}
	dep := objs["Deployment"].(*appsv1.Deployment)
	if *dep.Spec.Replicas < 2 {
		t.Errorf("replicas %d, want at least 2", *dep.Spec.Replicas)
	}
	pod := dep.Spec.Template.Spec
	checkPod(t, "Deployment", pod)
	c := pod.Containers[0]
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("probes: liveness %+v readiness %+v", c.LivenessProbe, c.ReadinessProbe)
	}
	job := objs["Job"].(*batchv1.Job)
	checkPod(t, "Job", job.Spec.Template.Spec)
	jc := job.Spec.Template.Spec.Containers[0]
	if !slices.Contains(jc.Command, "migrate") || !usesSecret(job.Spec.Template.Spec, "soteai-db-owner") {
		t.Errorf("the migration Job must run `assist migrate` with the owner's secret: %v", jc.Command)
	}
	if usesSecret(pod, "soteai-db-owner") || !usesSecret(pod, "soteai-db-app") {
		t.Error("the gateway must run as the app role (soteai-db-app), never the owner")
	}
	sel := dep.Spec.Template.Labels
	pdb := objs["PodDisruptionBudget"].(*policyv1.PodDisruptionBudget)
	for k, v := range pdb.Spec.Selector.MatchLabels {
		if sel[k] != v {
			t.Errorf("the PodDisruptionBudget does not select the gateway's pods (%s=%s)", k, v)
		}
	}
	for k, v := range objs["Service"].(*corev1.Service).Spec.Selector {
		if sel[k] != v {
			t.Errorf("the Service does not select the gateway's pods (%s=%s)", k, v)
		}
	}

	// The configuration in the ConfigMap loads, with the secret files of
	// the pod's mounts in place.
	cm := objs["ConfigMap"].(*corev1.ConfigMap)
	tmp := t.TempDir()
	cfgText := strings.ReplaceAll(cm.Data["assistd.yaml"], "/var/run/secrets/soteai", tmp)
	for _, f := range []string{"db/url", "audit/hmac.key", "audit/checkpoint.key", "tls/tls.crt", "tls/tls.key"} {
		p := filepath.Join(tmp, f)
		_ = os.MkdirAll(filepath.Dir(p), 0o700)
		content := "postgres://app@db:5432/assist"
		if strings.HasSuffix(f, ".key") && strings.HasPrefix(f, "audit") {
			content = strings.Repeat("ab", 32)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfgPath := filepath.Join(tmp, "assistd.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(cfgPath, nil); err != nil {
		t.Errorf("the ConfigMap's configuration does not load: %v", err)
	}
}

func checkPod(t *testing.T, what string, pod corev1.PodSpec) {
	t.Helper()
	sc := pod.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Errorf("%s: the pod must run as a non-root user", what)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("%s: no service account token is needed", what)
	}
	for _, c := range pod.Containers {
		cs := c.SecurityContext
		if cs == nil || cs.ReadOnlyRootFilesystem == nil || !*cs.ReadOnlyRootFilesystem || cs.AllowPrivilegeEscalation == nil || *cs.AllowPrivilegeEscalation {
			t.Errorf("%s/%s: read-only root filesystem and no privilege escalation", what, c.Name)
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				t.Errorf("%s/%s: secret %s in the environment; mount secrets as files", what, c.Name, e.Name)
			}
		}
	}
}

func usesSecret(pod corev1.PodSpec, name string) bool {
	for _, v := range pod.Volumes {
		if v.Secret != nil && v.Secret.SecretName == name {
			return true
		}
	}
	return false
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestAlertRulesAndDashboard checks the alert rules with promtool (syntax
// and the unit tests in alerts_test.yaml) and that every metric the rules
// and the Grafana dashboard use is one the gateway exports.
func TestAlertRulesAndDashboard(t *testing.T) {
	dir := filepath.Join(deployDir, "monitoring")
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool is not installed (Debian package prometheus; scripts/setup.sh installs it)")
		}
		t.Skip("promtool is not installed; run scripts/setup.sh")
	}
	for _, args := range [][]string{{"check", "rules", "alerts.yaml"}, {"test", "rules", "alerts_test.yaml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	m := metrics.New(func() models.Stats { return models.Stats{} })
	m.CheckpointAge(func() float64 { return 0 })
	exported := map[string]bool{}
	for _, n := range m.Names() {
		exported[n] = true
	}
	rules, err := os.ReadFile(filepath.Join(dir, "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dash, err := os.ReadFile(filepath.Join(dir, "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(dash, &d); err != nil || d.UID == "" || len(d.Panels) < 8 {
		t.Fatalf("dashboard: %v (uid %q, %d panels)", err, d.UID, len(d.Panels))
	}
	name := regexp.MustCompile(`\b(assist|go|process)_[a-z_]+\b`)
	used := map[string]bool{}
	for _, n := range name.FindAllString(string(rules), -1) {
		used[n] = true
	}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			for _, n := range name.FindAllString(q.Expr, -1) {
				used[n] = true
			}
		}
	}
	for n := range used {
		base := n
		for _, suf := range []string{"_bucket", "_count", "_sum"} {
			if b, ok := strings.CutSuffix(n, suf); ok && exported[b] {
				base = b
			}
		}
		if !exported[base] && !strings.HasPrefix(n, "go_") && !strings.HasPrefix(n, "process_") {
			t.Errorf("%s is used by the alert rules or the dashboard but not exported", n)
		}
	}
}

// TestSystemdUnit checks the unit's hardening and credentials, and lets
// systemd-analyze verify it where systemd is installed.
func TestSystemdUnit(t *testing.T) {
	path := filepath.Join(deployDir, "systemd", "assistd.service")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	for _, want := range []string{"User=soteai", "NoNewPrivileges=yes", "ProtectSystem=strict", "LoadCredential=", "ExecReload=/bin/kill -HUP $MAINPID", "ExecStart=/usr/local/bin/assistd"} {
		if !strings.Contains(unit, want) {
			t.Errorf("the unit lacks %s", want)
		}
	}
	for _, line := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(line, "Environment=ASSIST_"); ok && !strings.Contains(v, "_FILE=%d/") {
			t.Errorf("secrets come from credentials, not the unit: %s", line)
		}
	}
	if sa, err := exec.LookPath("systemd-analyze"); err == nil {
		if out, err := exec.Command(sa, "verify", path).CombinedOutput(); err != nil && !strings.Contains(string(out), "assistd: No such file") && !strings.Contains(string(out), "Command /usr/local/bin/assistd is not executable") {
			t.Logf("systemd-analyze verify: %v\n%s", err, out)
		}
	}
}
