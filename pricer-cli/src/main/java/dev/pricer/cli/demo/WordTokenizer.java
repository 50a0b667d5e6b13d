package dev.pricer.cli.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small word-level tokenizer in Hugging Face's {@code tokenizer.json} format, made from a corpus: Llama 3's
 * pre-tokenizer split (words with their leading space, numbers in groups of up to three digits, punctuation),
 * a vocabulary of every piece seen at least {@code minCount} times, and every number from 0 to 999 (with
 * leading zeros) as one token, so a price is one token as it is for Llama 3. Decoding fuses the pieces back.
 */
public final class WordTokenizer {

    public static final String BOS = "<|begin_of_text|>";
    public static final String EOS = "<|end_of_text|>";
    public static final String UNK = "<|unk|>";

    /** Llama 3's pre-tokenizer pattern; Java's regex reads it as the tokenizers library's Oniguruma does. */
    static final String SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private WordTokenizer() {
    }

    /** Writes {@code tokenizer.json} for {@code texts}; returns the vocabulary size (special tokens included). */
    public static int write(List<String> texts, int minCount, Path file) throws IOException {
        Map<String, Integer> counts = new TreeMap<>();
        Pattern split = Pattern.compile(SPLIT);
        for (String text : texts) {
            Matcher m = split.matcher(text);
            while (m.find()) counts.merge(m.group(), 1, Integer::sum);
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String special : List.of(BOS, EOS, UNK)) vocab.put(special, vocab.size());
        for (int n = 0; n < 1000; n++) {
            vocab.putIfAbsent(Integer.toString(n), vocab.size());
            vocab.putIfAbsent("%02d".formatted(n % 100), vocab.size());
            vocab.putIfAbsent("%03d".formatted(n), vocab.size());
        }
        for (char c = ' '; c < 127; c++) vocab.putIfAbsent(String.valueOf(c), vocab.size());
        vocab.putIfAbsent("\n", vocab.size());
        vocab.putIfAbsent("\n\n", vocab.size());
        counts.forEach((piece, count) -> {
            if (count >= minCount) vocab.putIfAbsent(piece, vocab.size());
        });

        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (String special : List.of(BOS, EOS, UNK)) {
            added.addObject().put("id", vocab.get(special)).put("content", special).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Split");
        pre.putObject("pattern").put("Regex", SPLIT);
        pre.put("behavior", "Isolated");
        pre.put("invert", false);
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", BOS).put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pair = post.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", BOS).put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode bos = post.putObject("special_tokens").putObject(BOS);
        bos.put("id", BOS);
        bos.putArray("ids").add(vocab.get(BOS));
        bos.putArray("tokens").add(BOS);
        root.putObject("decoder").put("type", "Fuse");
        ObjectNode model = root.putObject("model");
        model.put("type", "WordLevel");
        ObjectNode v = model.putObject("vocab");
        vocab.forEach(v::put);
        model.put("unk_token", UNK);

        Files.createDirectories(file.toAbsolutePath().getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        json.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), root);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return vocab.size();
    }
}
