package dev.pricer.cli.data;

import dev.pricer.data.curate.Curation;
import dev.pricer.data.curate.CurationConfig;
import dev.pricer.data.read.Source;
import dev.pricer.data.write.OutputFormat;
import dev.pricer.hub.CommitInfo;
import dev.pricer.hub.HubClient;
import dev.pricer.hub.Push;
import dev.pricer.hub.RepoId;
import dev.pricer.hub.RepoType;
import dev.pricer.hub.TransferProgress;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Curated splits as a dataset repository, laid out as the datasets library's {@code push_to_hub} lays them out
 * ({@code data/train-00000-of-00001.parquet}, ...) with a dataset card whose {@code configs} name the splits, so that
 * {@code load_dataset("owner/name")} (with {@code HF_ENDPOINT} at Pricer's server) and {@code pricer train --data
 * datasets/owner/name} read them alike.
 */
final class DatasetPush {

    private DatasetPush() {
    }

    /** Commits the report's splits and the card to {@code datasets/owner/name}, creating the repository when missing. */
    static CommitInfo push(HubClient hub, String ownerAndName, boolean isPrivate, Curation.Report report, OutputFormat format,
                           CurationConfig config, TransferProgress transfer) {
        RepoId repo = RepoId.parse(RepoType.DATASET, ownerAndName);
        Map<String, Path> files = new LinkedHashMap<>();
        for (Path output : report.outputs()) files.put("data/" + splitOf(output) + "-00000-of-00001." + format.extension(), output);
        Path cardFile = null;
        try {
            cardFile = Files.createTempFile("pricer-dataset-card", ".md");
            files.put("README.md", Files.writeString(cardFile, card(repo, report, config)));
            hub.ensureRepo(repo, isPrivate);
            return hub.push(repo, Push.files(files, "pricer data curate: %,d train and %,d test items".formatted(report.train(), report.test())), transfer);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the dataset card: " + e.getMessage(), e);
        } finally {
            if (cardFile != null) cardFile.toFile().delete();
        }
    }

    /** {@code train} of {@code train.parquet}: curation names each split's file by the split, where a dataset folder keeps it. */
    private static String splitOf(Path output) {
        return Source.splitOf(output.getFileName().toString()).orElseThrow(() -> new IllegalStateException("curation wrote " + output
            + ", which names no split"));
    }

    /** The dataset card: the splits for load_dataset, then what the items are and the curation that made them. */
    static String card(RepoId repo, Curation.Report report, CurationConfig config) {
        StringBuilder card = new StringBuilder("---\nconfigs:\n- config_name: default\n  data_files:\n");
        for (Path output : report.outputs()) card.append("  - split: ").append(splitOf(output)).append("\n    path: data/").append(splitOf(output)).append("-*\n");
        card.append("tags:\n- pricer\n- price-prediction\n---\n\n# ").append(repo).append("\n\n");
        card.append("Products and their prices, curated by `pricer data curate` as the course's price-predictor week did: ")
            .append("%,d train and %,d test items, each with `title`, `category`, `price`, `text`, `tokens` and the prompt ".formatted(report.train(), report.test()))
            .append("`How much does this cost to the nearest dollar?\\n\\n{text}\\n\\nPrice is ${price}.00`.\n\n")
            .append("| curation | value |\n|---|---|\n");
        card.append("| prices | %s to %s |\n".formatted(config.minPrice(), config.maxPrice()));
        card.append("| text fields | %s |\n".formatted(String.join(", ", config.textFields())));
        card.append("| characters | more than %d, cut at %d |\n".formatted(config.minChars(), config.ceilingChars()));
        card.append("| tokens | %s |\n".formatted(config.limitTokens() ? "more than %d, cut to %d".formatted(config.minTokens(), config.maxTokens()) : "not limited"));
        card.append("| balanced by price | %s |\n".formatted(config.balance() ? "yes, at most %d a bucket".formatted(config.bucketCap()) : "no"));
        card.append("| seed | %d |\n".formatted(config.seed()));
        card.append("| items read, skipped, curated | %,d, %,d, %,d |\n".formatted(report.rows(), report.skipped(), report.curated()));
        return card.toString();
    }
}
