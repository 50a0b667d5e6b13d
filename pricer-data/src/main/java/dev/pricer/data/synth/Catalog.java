package dev.pricer.data.synth;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The synthetic catalog's world: the course's eight categories, their product types with a typical price,
 * the attributes that multiply it, and brands whose tier multiplies it too. Definitions are compact strings,
 * {@code "Type|low-high|Attribute:value=factor,value=factor;Attribute:..."}, so the tables read like a spec sheet.
 * Brand names are invented.
 */
final class Catalog {

    record Value(String text, double factor) {}

    record Attribute(String name, List<Value> values) {}

    record ProductType(String name, double low, double high, List<Attribute> attributes) {
        double typical() {
            return Math.sqrt(low * high);
        }
    }

    record Brand(String name, double tier) {}

    record Category(String name, double share, List<ProductType> types, List<Brand> brands, List<String> uses) {}

    /** Brand tiers from budget to luxury; a brand's place in its list gives its tier. */
    static final double[] TIERS = {0.6, 0.8, 1.0, 1.25, 1.6, 2.1};

    static final List<Category> CATEGORIES = List.of(
            category("Automotive", 0.25,
                    List.of("RoadPro", "AutoVista", "DriveMate", "Torqline", "Velocar", "Apex Motorworks"),
                    List.of("daily commuting", "long road trips", "trucks and SUVs", "weekend garage projects"),
                    "Car Phone Mount|8-25|Mount:dashboard=1,air vent=0.9,windshield=1.05;Charging:no charging=1,wireless charging=2.2",
                    "Floor Mats|20-60|Coverage:front row=1,front and rear=1.6,full set with cargo liner=2.3;Material:rubber=1,all-weather TPE=1.5,carpet=0.9",
                    "Car Battery|90-180|Group Size:group 35=1,group 24F=1.05,group 65=1.15,group H6=1.25;Type:flooded=1,AGM=1.6",
                    "Dash Camera|30-90|Resolution:1080p=1,1440p=1.4,4K=2.1;Channels:front only=1,front and rear=1.5",
                    "Brake Pads|25-60|Position:front axle=1,rear axle=0.9;Compound:organic=0.8,semi-metallic=1,ceramic=1.4",
                    "Tire Inflator|25-70|Power:12V plug-in=1,cordless rechargeable=1.6;Max Pressure:100 PSI=1,150 PSI=1.25"),
            category("Electronics", 0.107,
                    List.of("Sonora", "Voltix", "Luma", "Pixelon", "Auralux", "Zenith Labs"),
                    List.of("home offices", "travel", "gaming setups", "everyday listening"),
                    "Wireless Earbuds|20-80|Noise Control:standard=1,active noise cancelling=2;Battery Life:6 hours=1,8 hours=1.15,10 hours=1.3",
                    "Bluetooth Speaker|25-90|Output:10W=1,20W=1.4,40W=2.1;Rating:splash-proof=1,IPX7 waterproof=1.3",
                    "Portable SSD|50-110|Capacity:500GB=1,1TB=1.6,2TB=2.6,4TB=4.4;Interface:USB 3.2 Gen 1=1,USB 3.2 Gen 2=1.2",
                    "Computer Monitor|110-220|Screen Size:22 inch=0.8,24 inch=1,27 inch=1.35,32 inch=1.9;Resolution:1080p=1,1440p=1.5,4K=2.2",
                    "HDMI Cable|6-14|Length:3 ft=0.8,6 ft=1,10 ft=1.3,25 ft=2.2;Version:HDMI 2.0=1,HDMI 2.1=1.6",
                    "Home Security Camera|25-60|Resolution:1080p=1,2K=1.3,4K=1.9;Power:plug-in=1,battery powered=1.4"),
            category("Office_Products", 0.107,
                    List.of("Scribe", "Deskwell", "Paperlane", "OfficeCraft", "Inkwright", "Montclair Studio"),
                    List.of("home offices", "classrooms", "busy reception desks", "small businesses"),
                    "Ballpoint Pens|5-12|Pack:12-pack=1,24-pack=1.7,60-pack=3.4;Ink:black ink=1,assorted colors=1.15",
                    "Office Chair|90-180|Upholstery:mesh=1,fabric=0.95,leather=1.5;Support:standard back=1,adjustable lumbar support=1.35",
                    "Laminator|25-60|Width:9 inch=1,12 inch=1.3,13 inch=1.45;Rollers:2 rollers=1,4 rollers=1.5",
                    "Desk Organizer|12-30|Material:plastic=0.8,mesh metal=1,bamboo=1.3,walnut wood=1.9;Compartments:3 compartments=1,6 compartments=1.3",
                    "Label Maker|20-50|Connectivity:standalone keyboard=1,Bluetooth app=1.4;Tape Width:12 mm tape=1,24 mm tape=1.5",
                    "Paper Shredder|40-110|Cut:strip cut=0.8,cross cut=1,micro cut=1.5;Capacity:8 sheets=1,12 sheets=1.35,18 sheets=1.8"),
            category("Tools_and_Home_Improvement", 0.107,
                    List.of("Forgeline", "BuildRight", "Ironclad", "Truecraft", "Stonebridge", "Meridian Pro"),
                    List.of("DIY repairs", "contractors", "home renovation", "the workshop"),
                    "Cordless Drill|45-110|Voltage:12V=0.8,18V=1,20V=1.1;Kit:tool only=0.7,with 1 battery=1.1,with 2 batteries=1.45",
                    "LED Light Bulbs|8-20|Pack:4-pack=1,8-pack=1.7,16-pack=3;Brightness:60W equivalent=1,100W equivalent=1.35",
                    "Circular Saw|60-140|Blade:6-1/2 inch blade=0.9,7-1/4 inch blade=1;Power:corded=1,cordless brushless=1.7",
                    "Tool Set|25-80|Pieces:65-piece=0.8,130-piece=1.2,230-piece=1.9;Case:soft bag=0.9,hard case=1.1",
                    "Smart Thermostat|80-180|Display:basic LCD=0.8,color touchscreen=1.3;Sensors:no room sensor=1,with room sensor=1.25",
                    "Wet Dry Vacuum|50-120|Tank:4 gallon=0.8,6 gallon=1,12 gallon=1.4,16 gallon=1.8;Motor:3 peak HP=0.9,5 peak HP=1.2,6.5 peak HP=1.4"),
            category("Cell_Phones_and_Accessories", 0.107,
                    List.of("Mobix", "Cellora", "Chargewell", "Nexa", "Orbitel", "Halcyon Mobile"),
                    List.of("commuters", "travel", "outdoor adventures", "everyday carry"),
                    "Phone Case|8-22|Protection:slim=0.8,rugged=1.4;Material:silicone=0.9,TPU=1,genuine leather=1.9",
                    "USB-C Charger|10-30|Power:20W=0.8,30W=1,65W=1.6,100W=2.2;Ports:1 port=1,2 ports=1.3,3 ports=1.5",
                    "Screen Protector|6-14|Pack:1-pack=0.7,2-pack=1,3-pack=1.3;Glass:standard tempered glass=1,privacy tempered glass=1.6",
                    "Unlocked Smartphone|150-420|Storage:64GB=0.8,128GB=1,256GB=1.3,512GB=1.7;Display:6.1 inch display=1,6.7 inch display=1.2",
                    "Power Bank|15-40|Capacity:5000mAh=0.6,10000mAh=1,20000mAh=1.5,26800mAh=1.9;Output:standard output=1,fast charging PD=1.3",
                    "Smartwatch|60-180|Case Size:40mm=1,44mm=1.1;Connectivity:Bluetooth only=1,GPS and cellular=1.6"),
            category("Toys_and_Games", 0.107,
                    List.of("Playnest", "Brickwise", "Funwave", "Kidora", "Wonderkin", "Marvelle Toys"),
                    List.of("family game night", "birthday gifts", "kids ages 6 and up", "rainy afternoons"),
                    "Building Blocks Set|15-50|Pieces:250 pieces=0.6,500 pieces=1,1000 pieces=1.8,2500 pieces=3.8;Theme:city theme=1,space theme=1.1,castle theme=1.15",
                    "Jigsaw Puzzle|10-22|Pieces:300 pieces=0.7,500 pieces=0.85,1000 pieces=1,2000 pieces=1.4;Finish:standard finish=1,premium linen finish=1.3",
                    "Remote Control Car|25-70|Scale:1:24 scale=0.6,1:16 scale=1,1:10 scale=1.9;Drive:2WD=1,4WD=1.4",
                    "Board Game|18-40|Players:2-4 players=1,2-6 players=1.2;Edition:standard edition=1,deluxe edition=1.7",
                    "Plush Toy|8-22|Size:8 inch=0.7,12 inch=1,24 inch=2.1;Material:polyester=1,organic cotton=1.5",
                    "Kids Drone|30-80|Camera:no camera=0.7,720p camera=1,1080p camera=1.5;Flight Time:8 minutes=1,15 minutes=1.3"),
            category("Appliances", 0.107,
                    List.of("Homewell", "Kitchara", "Frostline", "Aquapure", "Everhome", "Bellamy Appliance"),
                    List.of("busy kitchens", "apartments", "family homes", "dorm rooms"),
                    "Refrigerator Water Filter|15-35|Pack:1-pack=1,2-pack=1.7,3-pack=2.3;Certification:NSF 42=1,NSF 53 and 401=1.3",
                    "Countertop Microwave|70-160|Capacity:0.7 cu ft=0.75,1.1 cu ft=1,1.6 cu ft=1.4,2.2 cu ft=1.9;Power:700W=0.85,1000W=1,1200W=1.2",
                    "Compact Washing Machine|150-360|Capacity:0.9 cu ft=0.7,1.6 cu ft=1,2.3 cu ft=1.45;Type:twin tub=0.8,fully automatic=1.3",
                    "Range Hood|90-220|Width:30 inch=1,36 inch=1.3;Airflow:300 CFM=0.85,450 CFM=1,600 CFM=1.3",
                    "Dryer Vent Kit|10-25|Length:4 ft=0.8,8 ft=1,25 ft=1.9;Material:foil=0.8,semi-rigid aluminum=1.2",
                    "Ice Maker|80-180|Output:26 lbs per day=0.9,33 lbs per day=1,44 lbs per day=1.5;Ice Type:bullet ice=1,nugget ice=2.1"),
            category("Musical_Instruments", 0.107,
                    List.of("Tonecraft", "Melodia", "Stagehand", "Resonant", "Harmonia", "Aldergrove Music"),
                    List.of("beginners", "gigging musicians", "home studios", "music students"),
                    "Guitar Strings|5-12|Gauge:light gauge=1,medium gauge=1.05;Material:nickel wound=1,phosphor bronze=1.25,coated=1.8",
                    "Acoustic Guitar|110-280|Body:3/4 size=0.6,dreadnought=1,grand auditorium=1.3;Top:laminate top=0.8,solid spruce top=1.4",
                    "Digital Piano|250-520|Keys:61 keys=0.5,88 keys=1;Action:semi-weighted keys=0.8,fully weighted hammer action=1.3",
                    "Guitar Amplifier|50-140|Output:10W=0.6,20W=1,50W=1.9,100W=2.6;Type:solid state=1,tube=1.8",
                    "Microphone|30-90|Type:dynamic=1,condenser=1.3;Connection:XLR=1,USB=1.15",
                    "Drumsticks|8-16|Pack:1 pair=0.6,4 pairs=1.6,12 pairs=3.8;Tip:wood tip=1,nylon tip=1.15"));

    private Catalog() {
    }

    private static Category category(String name, double share, List<String> brands, List<String> uses, String... types) {
        List<Brand> b = new ArrayList<>();
        for (int i = 0; i < brands.size(); i++) b.add(new Brand(brands.get(i), TIERS[i]));
        return new Category(name, share, Arrays.stream(types).map(Catalog::type).toList(), b, uses);
    }

    private static ProductType type(String spec) {
        String[] parts = spec.split("\\|");
        String[] range = parts[1].split("-");
        List<Attribute> attributes = new ArrayList<>();
        for (String attr : parts[2].split(";")) {
            String[] nv = attr.split(":", 2);
            List<Value> values = new ArrayList<>();
            for (String v : nv[1].split(",")) {
                int eq = v.lastIndexOf('=');
                values.add(new Value(v.substring(0, eq), Double.parseDouble(v.substring(eq + 1))));
            }
            attributes.add(new Attribute(nv[0], values));
        }
        return new ProductType(parts[0], Double.parseDouble(range[0]), Double.parseDouble(range[1]), attributes);
    }
}
