package dev.pricer.cli.hub;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.pricer.cli.progress.TransferBar;
import dev.pricer.hub.CheckpointOrigin;
import dev.pricer.hub.CommitInfo;
import dev.pricer.hub.FileEntry;
import dev.pricer.hub.HubClient;
import dev.pricer.hub.HubException;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.LocalHub;
import dev.pricer.hub.Push;
import dev.pricer.hub.Ref;
import dev.pricer.hub.RepoId;
import dev.pricer.hub.RepoInfo;
import dev.pricer.hub.RepoType;
import dev.pricer.hub.store.GcReport;
import dev.pricer.hub.store.HubStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;

/** {@code pricer hub ...}: model repositories, in the local store or on a hub server. */
@Command(name = "hub", mixinStandardHelpOptions = true,
    description = "Model repositories: list, log, files, refs, download, push, rm, tag, branch, visibility, delete, gc.",
    subcommands = {HubCommand.ListRepos.class, HubCommand.Log.class, HubCommand.Files.class, HubCommand.Refs.class, HubCommand.Download.class,
        HubCommand.PushDir.class, HubCommand.Remove.class, HubCommand.Tag.class, HubCommand.Branch.class, HubCommand.Visibility.class,
        HubCommand.Delete.class, HubCommand.Gc.class})
public final class HubCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    private static final ObjectMapper JSON = JsonMapper.builder().addModule(new JavaTimeModule())
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).build();

    /** Which hub: {@code --url} (a server), else {@code --store} (a local folder), else the environment (see {@link Hubs}). */
    static final class Target {
        @Option(names = "--url", description = "Hub server URL (default: $PRICER_HUB_URL, else $PRICER_SERVER, else the local store).")
        URI url;

        @Option(names = "--token", description = "Token for the server (default: $PRICER_HUB_TOKEN, $PRICER_TOKEN or $HF_TOKEN).")
        String token;

        @Option(names = "--store", description = "Local store folder (default: $PRICER_HOME/hub).")
        Path store;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
        CommandLine.Model.CommandSpec spec;

        /** {@code mayCreateStore}: a {@code --store} folder that does not exist is made (a push), not refused as a typo. */
        HubClient open(boolean mayCreateStore) {
            Map<String, String> env = System.getenv();
            if (url != null) return Hubs.remote(url, token != null ? token : Hubs.token(env));
            if (store != null) {
                if (!mayCreateStore && !java.nio.file.Files.isDirectory(store)) {
                    throw new HubException.Invalid("no hub store at " + store + " (a push makes one)");
                }
                return new LocalHub(Hubs.local(store), env.getOrDefault("PRICER_USER", System.getProperty("user.name", "pricer")));
            }
            return Hubs.fromEnvironment(env);
        }

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        void print(Object value, String text) {
            try {
                out().println(json ? JSON.writerWithDefaultPrettyPrinter().writeValueAsString(value) : text);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException("cannot write JSON of " + value.getClass().getSimpleName(), e);
            }
            out().flush();
        }

        /** Progress goes to stderr, so that stdout stays the result (and valid JSON with --json). */
        PrintWriter err() {
            return spec.commandLine().getErr();
        }

        void progress(String line) {
            err().println(line);
            err().flush();
        }
    }

    /** {@code ns/name[@rev]}, or {@code datasets/ns/name[@rev]}. */
    public record RepoRef(RepoId repo, String revision) {
        public static RepoRef parse(String text) {
            int at = text.lastIndexOf('@');
            return at < 0 ? new RepoRef(RepoId.parse(text), Push.MAIN) : new RepoRef(RepoId.parse(text.substring(0, at)), text.substring(at + 1));
        }
    }

    abstract static class HubJob implements Callable<Integer> {
        @Mixin
        Target target;

        @Override
        public Integer call() {
            try (HubClient hub = target.open(writes())) {
                run(hub);
                return 0;
            } catch (HubException e) {
                target.spec.commandLine().getErr().println("pricer hub: " + e.getMessage());
                return e instanceof HubException.NotFound ? 2 : 1;
            }
        }

        abstract void run(HubClient hub);

        /** Whether the job adds to the hub, so that a local store may be made for it. */
        boolean writes() {
            return false;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Repositories, most recently changed first.")
    static final class ListRepos extends HubJob {
        @Option(names = "--type", defaultValue = "model", description = "model or dataset (default: ${DEFAULT-VALUE}).")
        String type;

        @Override
        void run(HubClient hub) {
            List<RepoInfo> repos = hub.listRepos(RepoType.parse(type));
            StringBuilder text = new StringBuilder("%-48s %-8s %-8s %s".formatted("REPOSITORY", "HEAD", "PRIVATE", "LAST MODIFIED"));
            for (RepoInfo repo : repos) {
                text.append('\n').append("%-48s %-8s %-8s %s".formatted(repo.id().qualified(), repo.head() == null ? "-" : repo.head().substring(0, 7),
                    repo.isPrivate() ? "yes" : "no", repo.lastModified()));
            }
            target.print(repos.stream().map(r -> Map.of("id", r.id().qualified(), "private", r.isPrivate(), "head", r.head() == null ? "" : r.head(),
                "created", r.created().toString(), "lastModified", r.lastModified().toString())).toList(), text.toString());
        }
    }

    @Command(name = "log", mixinStandardHelpOptions = true, description = "Commit history of REPO[@REV], newest first.")
    static final class Log extends HubJob {
        @Parameters(paramLabel = "REPO[@REV]")
        String repo;

        @Option(names = {"-n", "--limit"}, defaultValue = "50", description = "Most commits to show (default: ${DEFAULT-VALUE}).")
        int limit;

        @Override
        void run(HubClient hub) {
            RepoRef ref = RepoRef.parse(repo);
            List<CommitInfo> log = hub.log(ref.repo(), ref.revision(), limit);
            Map<String, List<String>> tags = Ref.tagsByCommit(hub.refs(ref.repo()));
            List<LogEntry> entries = log.stream().map(c -> LogEntry.of(c, tags.getOrDefault(c.sha(), List.of()))).toList();
            StringBuilder text = new StringBuilder();
            for (LogEntry entry : entries) {
                if (!text.isEmpty()) text.append('\n');
                text.append(entry.sha(), 0, 7).append(' ').append(entry.time()).append(' ').append(entry.author()).append("  ")
                    .append(entry.message().lines().findFirst().orElse(""));
                if (!entry.tags().isEmpty()) text.append("  (").append(String.join(", ", entry.tags())).append(')');
                if (entry.run() != null) text.append("  run ").append(entry.run());
            }
            target.print(entries, text.toString());
        }
    }

    /** A commit as {@code hub log} shows it: with its tags, and the step and tracked run it saved when it is a checkpoint. */
    record LogEntry(String sha, String parent, String author, java.time.Instant time, String message, List<String> tags, Long step, String run) {
        static LogEntry of(CommitInfo commit, List<String> tags) {
            var origin = CheckpointOrigin.of(commit, tags);
            return new LogEntry(commit.sha(), commit.parent(), commit.author(), commit.time(), commit.message(), tags,
                origin.map(CheckpointOrigin::step).orElse(null), origin.map(CheckpointOrigin::runId).orElse(null));
        }
    }

    @Command(name = "files", mixinStandardHelpOptions = true, description = "Files of REPO[@REV].")
    static final class Files extends HubJob {
        @Parameters(paramLabel = "REPO[@REV]")
        String repo;

        @Override
        void run(HubClient hub) {
            RepoRef ref = RepoRef.parse(repo);
            List<FileEntry> files = hub.files(ref.repo(), ref.revision());
            StringBuilder text = new StringBuilder();
            for (FileEntry file : files) {
                if (!text.isEmpty()) text.append('\n');
                text.append("%10s  %s  %s".formatted(FileEntry.readable(file.size()), file.sha256() == null ? "-".repeat(12) : file.sha256().substring(0, 12), file.path()));
            }
            target.print(files, text.toString());
        }
    }

    @Command(name = "download", mixinStandardHelpOptions = true, description = "Download one file, or every file, of REPO[@REV].")
    static final class Download extends HubJob {
        @Parameters(index = "0", paramLabel = "REPO[@REV]")
        String repo;

        @Parameters(index = "1", arity = "0..1", paramLabel = "PATH", description = "One file; without it, the whole snapshot.")
        String path;

        @Option(names = {"-o", "--output"}, description = "Target file (with PATH) or folder (default: ./PATH's name, or ./REPO's name).")
        Path output;

        @Override
        void run(HubClient hub) {
            RepoRef ref = RepoRef.parse(repo);
            String sha = hub.resolve(ref.repo(), ref.revision());
            List<FileEntry> files = path == null ? hub.files(ref.repo(), sha)
                : hub.files(ref.repo(), sha).stream().filter(f -> f.path().equals(path)).toList();
            if (files.isEmpty()) throw new HubException.NotFound(HubException.Missing.ENTRY, "'" + path + "' is not in " + ref.repo().qualified() + "@" + ref.revision());
            Path root = output != null ? output : Path.of(path == null ? ref.repo().name() : Path.of(path).getFileName().toString());
            Function<FileEntry, Path> targetOf = file -> path == null ? root.resolve(file.path()) : root;
            hub.download(ref.repo(), sha, files, targetOf, TransferBar.on(target.err()));
            List<String> written = files.stream().map(file -> targetOf.apply(file).toString()).toList();
            target.print(Map.of("commit", sha, "files", written), "downloaded " + files.size() + " file(s) at " + sha.substring(0, 7) + " to " + root);
        }
    }

    @Command(name = "push", mixinStandardHelpOptions = true, description = "Commit every file under DIR to REPO (created if missing).")
    static final class PushDir extends HubJob {
        @Parameters(index = "0", paramLabel = "REPO")
        String repo;

        @Parameters(index = "1", paramLabel = "DIR")
        Path dir;

        @Option(names = {"-m", "--message"}, required = true, description = "Commit message.")
        String message;

        @Option(names = {"-b", "--branch"}, defaultValue = Push.MAIN, description = "Branch (default: ${DEFAULT-VALUE}).")
        String branch;

        @Option(names = "--tag", description = "Also tag the new commit.")
        String tag;

        @Option(names = "--private", description = "Create the repository private when it does not exist.")
        boolean isPrivate;

        @Override
        boolean writes() {
            return true;
        }

        @Override
        void run(HubClient hub) {
            RepoId id = RepoId.parse(repo);
            hub.ensureRepo(id, isPrivate);
            Push push = Push.directory(dir, message).onBranch(branch);
            target.progress("pushing " + push.files().size() + " file(s) from " + dir + " to " + id.qualified() + "@" + branch);
            CommitInfo commit = hub.push(id, push, TransferBar.on(target.err()));
            if (tag != null) hub.tag(id, tag, commit.sha());
            target.print(commit, commit.sha());
        }
    }

    @Command(name = "refs", mixinStandardHelpOptions = true, description = "Branches and tags of REPO, and the commits they name.")
    static final class Refs extends HubJob {
        @Parameters(paramLabel = "REPO")
        String repo;

        @Override
        void run(HubClient hub) {
            List<Ref> refs = hub.refs(RepoId.parse(repo));
            StringBuilder text = new StringBuilder();
            for (Ref ref : refs) {
                if (!text.isEmpty()) text.append('\n');
                text.append("%-7s %-8s %s".formatted(ref.kind() == Ref.Kind.BRANCH ? "branch" : "tag", ref.target().substring(0, 7), ref.name()));
            }
            target.print(refs, text.toString());
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true, description = "Commit the removal of files from REPO (as delete_file; earlier commits keep them).")
    static final class Remove extends HubJob {
        @Parameters(index = "0", paramLabel = "REPO")
        String repo;

        @Parameters(index = "1", arity = "1..*", paramLabel = "PATH")
        List<String> paths;

        @Option(names = {"-m", "--message"}, required = true, description = "Commit message.")
        String message;

        @Option(names = {"-b", "--branch"}, defaultValue = Push.MAIN, description = "Branch (default: ${DEFAULT-VALUE}).")
        String branch;

        @Override
        void run(HubClient hub) {
            RepoId id = RepoId.parse(repo);
            CommitInfo commit = hub.push(id, Push.files(Map.of(), message).onBranch(branch).deleting(java.util.Set.copyOf(paths)));
            target.print(commit, commit.sha());
        }
    }

    /** {@code tag} and {@code branch}: the ref NAME at the commit REPO[@REV] names (default main), or with --delete its removal. */
    abstract static class RefJob extends HubJob {
        private final Ref.Kind kind;

        @Parameters(index = "0", paramLabel = "REPO[@REV]")
        String repo;

        @Parameters(index = "1", paramLabel = "NAME")
        String name;

        @Option(names = {"-d", "--delete"}, description = "Delete it instead; its commits stay while another ref reaches them, else until gc.")
        boolean delete;

        RefJob(Ref.Kind kind) {
            this.kind = kind;
        }

        @Override
        void run(HubClient hub) {
            RepoRef ref = RepoRef.parse(repo);
            String what = (kind == Ref.Kind.BRANCH ? "branch " : "tag ") + name + " of " + ref.repo().qualified();
            if (delete) {
                if (kind == Ref.Kind.BRANCH) hub.deleteBranch(ref.repo(), name);
                else hub.deleteTag(ref.repo(), name);
                target.print(Map.of("deleted", name), "deleted " + what);
                return;
            }
            String sha = hub.resolve(ref.repo(), ref.revision());
            if (kind == Ref.Kind.BRANCH) hub.createBranch(ref.repo(), name, sha);
            else hub.tag(ref.repo(), name, sha);
            target.print(new Ref(kind, name, sha), what + " at " + sha.substring(0, 7));
        }
    }

    @Command(name = "tag", mixinStandardHelpOptions = true, description = "Tag the commit REPO[@REV] names (default main) as NAME; or delete tag NAME.")
    static final class Tag extends RefJob {
        Tag() {
            super(Ref.Kind.TAG);
        }
    }

    @Command(name = "branch", mixinStandardHelpOptions = true, description = "Start branch NAME at the commit REPO[@REV] names (default main); or delete branch NAME (not main).")
    static final class Branch extends RefJob {
        Branch() {
            super(Ref.Kind.BRANCH);
        }
    }

    @Command(name = "visibility", mixinStandardHelpOptions = true, description = "Make REPO private (members of its namespace only) or public.")
    static final class Visibility extends HubJob {
        @Parameters(index = "0", paramLabel = "REPO")
        String repo;

        @Parameters(index = "1", paramLabel = "private|public")
        String visibility;

        @Override
        void run(HubClient hub) {
            if (!visibility.equals("private") && !visibility.equals("public")) {
                throw new HubException.Invalid("visibility must be private or public, not '" + visibility + "'");
            }
            RepoInfo info = hub.setPrivate(RepoId.parse(repo), visibility.equals("private"));
            target.print(Map.of("id", info.id().qualified(), "private", info.isPrivate()), info.id().qualified() + " is " + visibility);
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete REPO for good: its commits, branches and tags (blobs no other repository uses go at the next gc).")
    static final class Delete extends HubJob {
        @Parameters(paramLabel = "REPO")
        String repo;

        @Option(names = "--yes", description = "Delete without asking: needed, as nothing brings the repository back.")
        boolean yes;

        @Override
        void run(HubClient hub) {
            RepoId id = RepoId.parse(repo);
            RepoInfo info = hub.repoInfo(id).orElseThrow(() -> HubStore.missingRepo(id));
            List<Ref> refs = hub.refs(id);
            String what = id.qualified() + " (main at " + (info.head() == null ? "no commit" : info.head().substring(0, 7)) + ", "
                + refs.stream().map(Ref::name).sorted().toList() + ")";
            if (!yes) throw new HubException.Invalid("not deleting " + what + ": nothing brings it back; run again with --yes");
            hub.deleteRepo(id);
            target.print(Map.of("deleted", id.qualified()), "deleted " + what);
        }
    }

    @Command(name = "gc", mixinStandardHelpOptions = true, description = "Remove commits, trees and blobs that no branch or tag reaches (local store only).")
    static final class Gc extends HubJob {
        @Option(names = "--grace", defaultValue = "PT1H", description = "Keep anything younger than this, as ISO-8601 (default: ${DEFAULT-VALUE}): pushes in progress need it.")
        Duration grace;

        @Override
        void run(HubClient hub) {
            if (!(hub instanceof LocalHub local)) {
                throw new HubException.Invalid("gc runs where the store is: run it on the server's machine (without --url, PRICER_HUB_URL or PRICER_SERVER)");
            }
            HubStore store = local.store();
            GcReport report = store.gc(grace);
            target.print(report, "removed %d blob(s) (%s), %d commit(s), %d tree(s); kept %d blob(s)".formatted(
                report.blobsRemoved(), FileEntry.readable(report.bytesRemoved()), report.commitsRemoved(), report.treesRemoved(), report.blobsKept()));
        }
    }
}
