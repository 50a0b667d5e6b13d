package dev.pricer.eval.checkpoint;

import dev.pricer.core.backend.Backend;
import dev.pricer.core.lora.BaseModelRef;
import dev.pricer.core.lora.PeftAdapter;
import dev.pricer.core.model.LlamaModel;
import dev.pricer.core.model.Quantization;
import dev.pricer.core.tokenizer.Tokenizer;
import dev.pricer.eval.predict.Decoding;
import dev.pricer.eval.predict.PricePredictor;
import dev.pricer.hub.HubException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * A base model (weights and tokenizer) with an adapter that can be swapped, so every checkpoint of a run is
 * evaluated on one loaded base.
 */
public final class PricingModel implements AutoCloseable {

    private final LlamaModel model;
    private final Tokenizer tokenizer;

    private PricingModel(LlamaModel model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /** The base in {@code baseDir} with the adapter in {@code adapterDir} (null: none). */
    public static PricingModel open(Path baseDir, Path adapterDir, Backend backend) {
        return open(baseDir, adapterDir, backend, Quantization.NONE);
    }

    /** As {@link #open(Path, Path, Backend)}, the base's decoder projections held as {@code quantization} says (QLoRA: NF4). */
    public static PricingModel open(Path baseDir, Path adapterDir, Backend backend, Quantization quantization) {
        Tokenizer tokenizer = Tokenizer.load(baseDir);
        try {
            return new PricingModel(LlamaModel.load(baseDir, adapterDir, backend, quantization), tokenizer);
        } catch (RuntimeException e) {
            tokenizer.close();
            throw e;
        }
    }

    /**
     * Where the base model of an adapter is: {@code base} as given, else the adapter config's
     * {@code base_model_name_or_path} at its {@code revision}, found as {@link #locateBase} finds a name.
     */
    public static Path baseOf(String base, Path adapterDir, Checkpoints checkpoints, Function<String, LocatedBase> huggingFace) {
        return locateBase(base != null ? base : PeftAdapter.readBase(adapterDir).reference(), checkpoints, huggingFace).dir();
    }

    /**
     * A base model by {@code name}: a folder as it is; else the hub's repository {@code REPO[@REV]}, cached by commit;
     * else, where the hub has no repository of that name, {@code huggingFace} ({@code owner/name[@rev]}), as PEFT
     * fetches a base by name.
     */
    public static LocatedBase locateBase(String name, Checkpoints checkpoints, Function<String, LocatedBase> huggingFace) {
        Path dir = Path.of(name);
        if (Files.isDirectory(dir)) return LocatedBase.folder(dir);
        Checkpoint fromHub;
        try {
            fromHub = checkpoints.fetch(ModelRef.parse(name));
        } catch (HubException.NotFound e) {
            if (e.missing() != HubException.Missing.REPO) throw e;
            try {
                return huggingFace.apply(name);
            } catch (RuntimeException fromHuggingFace) {
                throw new IllegalArgumentException("the base model '" + name + "' is not a folder, the hub has no such repository, and "
                        + "from the Hugging Face Hub: " + fromHuggingFace.getMessage(), fromHuggingFace);
            }
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("the base model '" + name + "' is neither a folder nor a hub model: " + e.getMessage(), e);
        }
        return new LocatedBase(fromHub.dir(), new BaseModelRef(fromHub.repo().toString(), fromHub.sha()));
    }

    /** Replaces the adapter (checked against the base before anything changes). */
    public void useAdapter(Path adapterDir) {
        model.loadAdapter(adapterDir);
    }

    public PricePredictor predictor(String name, Decoding decoding, int topK, int batchSize) {
        return new PricePredictor(name, model, tokenizer, decoding, topK, batchSize);
    }

    public LlamaModel model() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public void close() {
        model.close();
        tokenizer.close();
    }
}
