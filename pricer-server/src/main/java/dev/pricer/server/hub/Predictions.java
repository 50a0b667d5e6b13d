package dev.pricer.server.hub;

import dev.pricer.core.backend.Backend;
import dev.pricer.core.lora.PeftAdapter;
import dev.pricer.eval.checkpoint.Checkpoint;
import dev.pricer.eval.checkpoint.Checkpoints;
import dev.pricer.eval.checkpoint.ModelRef;
import dev.pricer.eval.checkpoint.PricingModel;
import dev.pricer.eval.predict.Decoding;
import dev.pricer.eval.predict.Guess;
import dev.pricer.eval.predict.PricePredictor;
import dev.pricer.hub.HubException;
import dev.pricer.hub.LocalHub;
import dev.pricer.hub.RepoId;
import dev.pricer.hub.store.HubStore;

import io.javalin.http.ServiceUnavailableResponse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Prices texts with an adapter repository of this hub at a commit: the "Try it" box of a repository page, as the
 * Hugging Face Hub's inference widget. The base model the adapter names must be a repository of this hub too; it is
 * loaded once and kept, and the adapter swapped when another commit is asked for. One request at a time, since a
 * model holds one backend; the others wait their turn for a while, then are told to try again. The server offers this only when started with {@code --inference}: a base model takes
 * memory and, on a CPU, time.
 */
public final class Predictions implements AutoCloseable {

    static final int MOST_TEXTS = 8;
    static final int LONGEST_TEXT = 4000;

    private final Checkpoints checkpoints;
    private final Supplier<Backend> backends;
    private final Duration patience;
    private final ReentrantLock lock = new ReentrantLock();
    private Backend backend;
    private PricingModel model;
    private Path loadedBase;
    private Path loadedAdapter;

    /**
     * Repositories come from {@code store} and are cached under {@code cache}; {@code backends} opens the backend a base
     * is loaded on; a request waits at most {@code patience} for the requests before it.
     */
    public Predictions(HubStore store, Path cache, Supplier<Backend> backends, Duration patience) {
        // Not closed here: the store belongs to the hub module, and closing a LocalHub closes its store.
        this.checkpoints = new Checkpoints(new LocalHub(store, "inference"), cache);
        this.backends = backends;
        this.patience = patience;
    }

    /**
     * The prices of {@code texts} by {@code repo} at commit {@code sha}; {@code readable} says which repositories the
     * caller may read. A request that finds the model busy for longer than the patience is answered 503 (try again),
     * so that callers do not pile up behind a slow one.
     */
    List<Guess> price(RepoId repo, String sha, List<String> texts, Predicate<RepoId> readable) {
        if (texts.isEmpty() || texts.size() > MOST_TEXTS) throw new HubException.Invalid("give 1 to " + MOST_TEXTS + " texts, not " + texts.size());
        for (String text : texts) {
            if (text.length() > LONGEST_TEXT) throw new HubException.Invalid("a text is " + text.length() + " characters long, more than " + LONGEST_TEXT);
        }
        try {
            if (!lock.tryLock(patience.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new ServiceUnavailableResponse("the model is busy pricing other texts (waited " + patience.toMillis() + " ms): try again shortly");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ServiceUnavailableResponse("interrupted while waiting for the model");
        }
        try {
            return priceHeld(repo, sha, texts, readable);
        } finally {
            lock.unlock();
        }
    }

    private List<Guess> priceHeld(RepoId repo, String sha, List<String> texts, Predicate<RepoId> readable) {
        Checkpoint adapter = checkpoints.fetch(new ModelRef(repo, sha));
        if (!Files.isRegularFile(adapter.dir().resolve(PeftAdapter.CONFIG_FILE))) {
            throw new HubException.Invalid(repo.qualified() + "@" + sha.substring(0, 7) + " has no " + PeftAdapter.CONFIG_FILE + ": texts are priced by a LoRA adapter's repository");
        }
        Checkpoint base = base(adapter, readable);
        if (!base.dir().equals(loadedBase)) {
            unload();
            backend = backends.get();
            model = PricingModel.open(base.dir(), adapter.dir(), backend);
            loadedBase = base.dir();
        } else if (!adapter.dir().equals(loadedAdapter)) {
            model.useAdapter(adapter.dir());
        }
        loadedAdapter = adapter.dir();
        return model.predictor(adapter.label(), Decoding.parse(PricePredictor.DEFAULT_DECODING), PricePredictor.DEFAULT_TOP_K, MOST_TEXTS).predictTexts(texts, done -> { });
    }

    /** The base the adapter names, as a repository of this hub the caller may read: a folder path names another machine's disk. */
    private Checkpoint base(Checkpoint adapter, Predicate<RepoId> readable) {
        String declared = PeftAdapter.readBase(adapter.dir()).reference();
        ModelRef ref;
        try {
            ref = ModelRef.parse(declared);
        } catch (IllegalArgumentException | HubException.Invalid e) {
            throw new HubException.Invalid("the adapter's base '" + declared + "' is not a repository name (a folder of the machine that trained it?):"
                    + " push the base to this hub and train on it by name (pricer train --base REPO) to try the adapter here");
        }
        HubException.NotFound absent = new HubException.NotFound(HubException.Missing.REPO, "the adapter's base " + ref.repo().qualified()
                + " is not a repository of this hub: push it here (pricer hub push) to try the adapter");
        if (!readable.test(ref.repo())) throw absent;
        try {
            return checkpoints.fetch(ref);
        } catch (HubException.NotFound e) {
            if (e.missing() == HubException.Missing.REPO) throw absent;
            throw e;
        }
    }

    /** Frees the loaded model and its backend; the next request loads them again. */
    @Override
    public void close() {
        lock.lock();
        try {
            unload();
        } finally {
            lock.unlock();
        }
    }

    private void unload() {
        if (model != null) model.close();
        if (backend != null) backend.close();
        model = null;
        backend = null;
        loadedBase = loadedAdapter = null;
    }
}
