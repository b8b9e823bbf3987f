package ollamatest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The environment variables the helpers read; scripts/stack.sh writes them.
const (
	EnvURL    = "TEST_OLLAMA_URL"    // base URL of the stack's Ollama server
	EnvModel  = "TEST_OLLAMA_MODEL"  // the model it serves
	EnvBin    = "TEST_OLLAMA_BIN"    // the ollama binary
	EnvModels = "TEST_OLLAMA_MODELS" // the stack's models directory
)

// Bounds on waiting for a server; they catch a hung server, they are not
// performance assertions.
const (
	readyTimeout = 2 * time.Minute
	stopTimeout  = 30 * time.Second
)

// lookup returns the variable key, skipping the test when it is unset, or
// failing it under CI=true.
func lookup(t testing.TB, key string) string {
	t.Helper()
	v := os.Getenv(key)
	if v != "" {
		return v
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set: the real Ollama is required under CI=true (run the tests via make test)", key)
	}
	t.Skipf("%s is not set; run `make test` (or source .local/test/stack.env after scripts/stack.sh start test) to use the real Ollama", key)
	return ""
}

// URL returns the base URL of the stack's Ollama server, without a
// trailing slash.
func URL(t testing.TB) string {
	t.Helper()
	return strings.TrimRight(lookup(t, EnvURL), "/")
}

// Model returns the name of the model the stack's servers serve.
func Model(t testing.TB) string {
	t.Helper()
	return lookup(t, EnvModel)
}

// Bin returns the path of the ollama binary, for tests that run the CLI.
func Bin(t testing.TB) string {
	t.Helper()
	return lookup(t, EnvBin)
}

// Server is an extra `ollama serve` process owned by one test.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:PORT; it stays the same
	// across Restart.
	URL string
	// Addr is the server's host:port.
	Addr string
	// Home is the server's HOME, a temporary directory; `ollama serve`
	// writes its key pair to Home/.ollama/id_ed25519 on first start.
	Home string

	bin, models, logPath string
	env                  []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

var errAddrInUse = errors.New("address already in use")

// Start starts an extra Ollama server on a free loopback port, sharing the
// stack's binary and models directory, and waits until /api/version
// answers. env adds KEY=VALUE settings for the server (for example
// "OLLAMA_NUM_PARALLEL=1"). The server is killed when the test ends; if the
// test failed, the end of the server's log is logged.
func Start(t testing.TB, env ...string) *Server {
	t.Helper()
	bin := lookup(t, EnvBin)
	models := lookup(t, EnvModels)
	dir := t.TempDir()
	s := &Server{
		bin:     bin,
		models:  models,
		Home:    dir,
		logPath: filepath.Join(dir, "serve.log"),
		env:     env,
	}
	var err error
	for range 3 {
		var addr string
		if addr, err = freeAddr(); err != nil {
			break
		}
		s.Addr, s.URL = addr, "http://"+addr
		if err = s.start(); !errors.Is(err, errAddrInUse) {
			break
		}
	}
	if err != nil {
		t.Fatalf("ollamatest: %v", err)
	}
	t.Cleanup(func() {
		_ = s.Kill()
		if t.Failed() {
			t.Logf("ollamatest: end of the log of the server at %s:\n%s", s.Addr, s.logTail(40))
		}
	})
	return s
}

// Stop stops the server the way an operator would (SIGTERM: Ollama closes
// its connections and unloads its models), waits for it to exit and
// returns. It is safe to call from any goroutine and when already stopped.
func (s *Server) Stop() error { return s.signal(syscall.SIGTERM) }

// Kill ends the server and its runner processes at once (SIGKILL), as a
// crash or power loss would. It is safe to call from any goroutine and when
// already stopped.
func (s *Server) Kill() error { return s.signal(syscall.SIGKILL) }

// Restart starts a stopped server again on the same address and waits until
// it answers.
func (s *Server) Restart() error {
	s.mu.Lock()
	running := s.running()
	s.mu.Unlock()
	if running {
		return fmt.Errorf("ollamatest: restart %s: still running", s.Addr)
	}
	if err := s.start(); err != nil {
		return fmt.Errorf("ollamatest: restart: %w", err)
	}
	return nil
}

// Log returns what the server has written to its log so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

func (s *Server) running() bool {
	if s.done == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

func (s *Server) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OLLAMA_") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"HOME="+s.Home, // the server writes its key pair under $HOME/.ollama
		"OLLAMA_HOST="+s.Addr,
		"OLLAMA_MODELS="+s.models,
		"OLLAMA_NOPRUNE=1",
		"OLLAMA_NO_CLOUD=1",
		"OLLAMA_KEEP_ALIVE=24h",
		"OLLAMA_NUM_PARALLEL=4",
	)
	return append(env, s.env...) // later entries win
}

func (s *Server) start() error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	offset, _ := logf.Seek(0, 2)
	cmd := exec.Command(s.bin, "serve")
	cmd.Env = s.environ()
	cmd.Dir = s.Home
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	// Pdeathsig fires when the thread that started the child exits; a
	// thread that is unlocked again stays in the runtime's pool.
	runtime.LockOSThread()
	err = cmd.Start()
	runtime.UnlockOSThread()
	if err != nil {
		logf.Close()
		return fmt.Errorf("start %s serve: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	return s.waitReady(done, offset)
}

func (s *Server) waitReady(done <-chan struct{}, logOffset int64) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		resp, err := client.Get(s.URL + "/api/version")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			log := s.Log()
			if int64(len(log)) >= logOffset {
				log = log[logOffset:]
			}
			if strings.Contains(log, "address already in use") {
				return errAddrInUse
			}
			return fmt.Errorf("ollama serve on %s exited before answering; end of its log:\n%s", s.Addr, tail(log, 40))
		case <-time.After(50 * time.Millisecond):
		}
	}
	_ = s.Kill()
	return fmt.Errorf("ollama serve on %s did not answer /api/version within %v; end of its log:\n%s", s.Addr, readyTimeout, s.logTail(40))
}

func (s *Server) signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running() {
		return nil
	}
	pid := s.cmd.Process.Pid
	if err := killGroup(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("ollamatest: signal %s: %w", s.Addr, err)
	}
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		_ = killGroup(pid, syscall.SIGKILL)
		<-s.done
	}
	// The runners are in the server's process group; after SIGTERM the
	// server has already stopped them, this only catches stragglers.
	_ = killGroup(pid, syscall.SIGKILL)
	return nil
}

func (s *Server) logTail(n int) string { return tail(s.Log(), n) }

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freeAddr returns a loopback address with a port the kernel just reported
// free; the caller retries if another process takes it first.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// SignalRunners sends sig to the server's runner processes (the `ollama
// runner` children that load models and generate), not to the server
// itself, and returns how many it signalled. SIGSTOP wedges generation
// while the server keeps answering /api/version, /api/tags and /api/ps;
// SIGCONT resumes it. It fails the test if the server has no runner (no
// model loaded yet).
func (s *Server) SignalRunners(t testing.TB, sig syscall.Signal) int {
	t.Helper()
	s.mu.Lock()
	pid := 0
	if s.running() {
		pid = s.cmd.Process.Pid
	}
	s.mu.Unlock()
	if pid == 0 {
		t.Fatalf("ollamatest: %s is not running", s.Addr)
	}
	kids, err := children(pid)
	if err != nil {
		t.Fatalf("ollamatest: runners of %s: %v", s.Addr, err)
	}
	if len(kids) == 0 {
		t.Fatalf("ollamatest: %s has no runner process (load a model first)", s.Addr)
	}
	for _, k := range kids {
		if err := syscall.Kill(k, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("ollamatest: signal runner %d: %v", k, err)
		}
	}
	return len(kids)
}

// PrivateModels copies the stack's models directory (the tiny test model
// is a few hundred KiB) into a directory of the test's own and returns it,
// for a Start(t, "OLLAMA_MODELS="+dir) server whose models a test may
// add or delete without touching the stack's.
func PrivateModels(t testing.TB) string {
	t.Helper()
	src := lookup(t, EnvModels)
	dst := filepath.Join(t.TempDir(), "models")
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o644)
	})
	if err != nil {
		t.Fatalf("ollamatest: copy the models directory: %v", err)
	}
	return dst
}
