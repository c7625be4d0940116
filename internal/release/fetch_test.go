package release

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	modzip "golang.org/x/mod/zip"
)

// The versions being prepared: RELEASING.md says when to change them. The
// root module is tagged first, then each nested module, whose go.mod must
// require the root at rootRelease (or at a root tag that already exists).
const (
	rootPath         = "github.com/breakeven-go/breakeven"
	rootRelease      = "v0.1.0"
	redisratePath    = rootPath + "/ratelimit/redisrate"
	redisrateDir     = "ratelimit/redisrate"
	redisrateRelease = "v0.1.0"
)

// maxZip bounds a module zip: everything in one is source and docs, so a
// zip that grows past this has picked up a binary or a data file.
const maxZip = 2 << 20

// TestAdopterCanFetchTheModules is what a user outside the repository does:
// `go get` redisrate and the root module at the versions about to be
// tagged, and build a program that uses both. The proxy is a directory: the
// modules made from the working tree, then the local module cache for their
// dependencies; GOSUMDB is off and no network proxy is named, so nothing
// leaves the machine.
func TestAdopterCanFetchTheModules(t *testing.T) {
	repo := repoRoot(t)
	checkNestedRequires(t, repo)
	proxy := t.TempDir()
	publish(t, proxy, repo, "", rootPath, rootRelease)
	publish(t, proxy, repo, redisrateDir, redisratePath, redisrateRelease)
	out, err := adopt(t, repo, proxy)
	if err != nil {
		t.Fatalf("an adopter cannot fetch and build the modules: %v\n%s", err, out)
	}
}

// TestFetchFailsOnAnUntaggedRoot: the check above is not vacuous. With
// redisrate's go.mod requiring the root at v0.0.0 (the replace-only
// development setup dependents cannot use), the same fetch must fail.
func TestFetchFailsOnAnUntaggedRoot(t *testing.T) {
	repo := repoRoot(t)
	proxy := t.TempDir()
	publish(t, proxy, repo, "", rootPath, rootRelease)
	publishWith(t, proxy, repo, redisrateDir, redisratePath, redisrateRelease, func(gomod []byte) []byte {
		f, err := modfile.Parse("go.mod", gomod, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.AddRequire(rootPath, "v0.0.0"); err != nil {
			t.Fatal(err)
		}
		f.Cleanup()
		b, err := f.Format()
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
	out, err := adopt(t, repo, proxy)
	if err == nil {
		t.Fatalf("fetch succeeded although redisrate requires %s v0.0.0:\n%s", rootPath, out)
	}
	if !strings.Contains(out, "v0.0.0") {
		t.Fatalf("fetch failed, but not on the untagged root version:\n%s", out)
	}
	if testing.Verbose() {
		t.Logf("fetch failed as it must:\n%s", out)
	}
}

// checkNestedRequires: every nested module requires the root at a version
// that is or will be a tag (replace directives are ignored by dependents).
func checkNestedRequires(t *testing.T, repo string) {
	tags := rootTags(t, repo)
	for _, dir := range nestedModules(t, repo) {
		gomod := filepath.Join(repo, dir, "go.mod")
		data, err := os.ReadFile(gomod)
		if err != nil {
			t.Fatal(err)
		}
		f, err := modfile.Parse(gomod, data, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range f.Require {
			if r.Mod.Path != rootPath {
				continue
			}
			v := r.Mod.Version
			switch {
			case v == rootRelease || tags[v]:
			default:
				t.Errorf("%s/go.mod requires %s %s: want %s (the release being prepared) or an existing root tag; "+
					"dependents ignore replace, so this version must exist (RELEASING.md)", dir, rootPath, v, rootRelease)
			}
		}
	}
}

// publish writes the module in dir (relative to repo) into the file proxy.
func publish(t *testing.T, proxy, repo, dir, modPath, version string) {
	publishWith(t, proxy, repo, dir, modPath, version, nil)
}

// publishWith is publish with the module's go.mod rewritten by edit.
func publishWith(t *testing.T, proxy, repo, dir, modPath, version string, edit func([]byte) []byte) {
	t.Helper()
	files := moduleFiles(t, repo, dir)
	gomod, err := os.ReadFile(filepath.Join(repo, dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		gomod = edit(gomod)
		for i, f := range files {
			if f.Path() == "go.mod" {
				files[i] = memFile{"go.mod", gomod}
			}
		}
	}
	esc, err := module.EscapePath(modPath)
	if err != nil {
		t.Fatal(err)
	}
	vdir := filepath.Join(proxy, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		t.Fatal(err)
	}
	var zbuf bytes.Buffer
	if err := modzip.Create(&zbuf, module.Version{Path: modPath, Version: version}, files); err != nil {
		t.Fatalf("module zip of %s: %v", modPath, err)
	}
	if zbuf.Len() > maxZip {
		t.Errorf("module zip of %s is %d bytes, over %d: a binary or data file is in the module (see .gitignore)", modPath, zbuf.Len(), maxZip)
	}
	info, _ := json.Marshal(struct{ Version, Time string }{version, time.Now().UTC().Format(time.RFC3339)})
	for name, data := range map[string][]byte{
		version + ".zip":  zbuf.Bytes(),
		version + ".mod":  gomod,
		version + ".info": info,
		"list":            []byte(version + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(vdir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// adopt builds a throwaway module outside the repository that fetches both
// modules from proxy and builds a program using them. It returns the go
// command's output and whether a step failed.
func adopt(t *testing.T, repo, proxy string) (string, error) {
	t.Helper()
	cache := goEnv(t, repo, "GOMODCACHE")
	// The dependencies (go-redis, x/time, ...) come from the local module
	// cache, which must hold them: download them the ordinary way first.
	for _, dir := range []string{".", redisrateDir} {
		run(t, filepath.Join(repo, dir), nil, "go", "mod", "download")
	}
	work := t.TempDir()
	modcache := t.TempDir()
	env := []string{
		"GOPROXY=" + fileURL(proxy) + "," + fileURL(filepath.Join(cache, "cache", "download")),
		"GOFLAGS=-mod=mod -modcacherw",
		"GOSUMDB=off", "GONOSUMDB=*", "GONOSUMCHECK=1", "GOPRIVATE=", "GONOPROXY=",
		"GOMODCACHE=" + modcache, "GOWORK=off", "GOTOOLCHAIN=local", "GOENV=off",
	}
	files := map[string]string{
		"go.mod": "module example.com/adopter\n\ngo 1.26.0\n",
		"main.go": `package main

import (
	"fmt"

	"github.com/breakeven-go/breakeven/pool"
	"github.com/breakeven-go/breakeven/ratelimit"
	// Compiled and linked in whole; named by no identifier, so that the
	// check does not break when redisrate's API changes (it needs a Redis
	// to run anyway).
	_ "github.com/breakeven-go/breakeven/ratelimit/redisrate"
)

func main() {
	l := ratelimit.New(10, 1)
	bufs := pool.NewBytes()
	fmt.Println(l.Allow(), len(bufs.Get(100)))
}
`,
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(work, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var log bytes.Buffer
	for _, args := range [][]string{
		{"go", "get", redisratePath + "@" + redisrateRelease},
		{"go", "get", rootPath + "@" + rootRelease},
		{"go", "build", "-o", os.DevNull, "."},
	} {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		fmt.Fprintf(&log, "$ %s\n%s", strings.Join(args, " "), out)
		if err != nil {
			return log.String(), fmt.Errorf("%s: %w", strings.Join(args, " "), err)
		}
	}
	gomod, err := os.ReadFile(filepath.Join(work, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if want := rootPath + " " + rootRelease; !strings.Contains(string(gomod), want) {
		return log.String() + string(gomod), fmt.Errorf("adopter's go.mod lacks %q", want)
	}
	return log.String(), nil
}

// moduleFiles lists the files of the module in dir as git would ship them:
// tracked or untracked but not ignored, as they are in the working tree.
// modzip.Create leaves out nested modules' files.
func moduleFiles(t *testing.T, repo, dir string) []modzip.File {
	t.Helper()
	root := filepath.Join(repo, dir)
	out := run(t, root, nil, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", ".")
	var files []modzip.File
	for _, rel := range strings.Split(strings.TrimRight(out, "\x00"), "\x00") {
		if rel == "" {
			continue
		}
		abs := filepath.Join(root, filepath.FromSlash(rel))
		if _, err := os.Lstat(abs); err != nil {
			continue // deleted in the working tree, not yet committed
		}
		files = append(files, dirFile{path: path.Clean(rel), abs: abs})
	}
	return files
}

// nestedModules lists the directories (relative to repo) of the tracked
// go.mod files other than the root's.
func nestedModules(t *testing.T, repo string) []string {
	out := run(t, repo, nil, "git", "ls-files", "--", "*/go.mod")
	var dirs []string
	for _, f := range strings.Fields(out) {
		dirs = append(dirs, path.Dir(f))
	}
	return dirs
}

// rootTags returns the repository's root-module tags (vX.Y.Z, no prefix).
func rootTags(t *testing.T, repo string) map[string]bool {
	tags := map[string]bool{}
	for _, tag := range strings.Fields(run(t, repo, nil, "git", "tag", "--list", "v*")) {
		if semver.IsValid(tag) {
			tags[tag] = true
		}
	}
	return tags
}

func repoRoot(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not found: the test lists the files git would ship")
	}
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func goEnv(t *testing.T, dir, key string) string {
	return strings.TrimSpace(run(t, dir, nil, "go", "env", key))
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, stderr.String())
	}
	return string(out)
}

func fileURL(dir string) string { return "file://" + filepath.ToSlash(dir) }

// dirFile is a file of the working tree, for modzip.Create.
type dirFile struct{ path, abs string }

func (f dirFile) Path() string                 { return f.path }
func (f dirFile) Lstat() (os.FileInfo, error)  { return os.Lstat(f.abs) }
func (f dirFile) Open() (io.ReadCloser, error) { return os.Open(f.abs) }

// memFile is a file held in memory (an edited go.mod).
type memFile struct {
	path string
	data []byte
}

func (f memFile) Path() string { return f.path }
func (f memFile) Lstat() (os.FileInfo, error) {
	return memInfo{path.Base(f.path), int64(len(f.data))}, nil
}
func (f memFile) Open() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(f.data)), nil }

type memInfo struct {
	name string
	size int64
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() os.FileMode  { return 0o644 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }
