// A .NET client of xWeb, as an integrator writes one: the proxy that `wsdl` generates from the emulator's WSDL
// (namespace XWeb, class netForumXML), called the way netFORUM's own samples call it.
//
//   mono XWebClient.exe URL USER PASSWORD FLOW ARGUMENTS...
//
//   authenticate
//   insert-facade-object FIXTURE.xml          the oNode of a sample request (its first element child), sent as is
//   set-preferences CUSTOMER SETTING...       SETTING: name=value,name=value (MailingListSetting members)
//   phone-insert CUSTOMER NAME=VALUE...       WEBPhoneInsert with these members set, every other one left unset:
//                                             number, number_display, cty_key (Phone); pht_key, extension,
//                                             unlisted_flag (Phone_XRef)
//   phone-update KEY PHONE_TYPE NUMBER        a sparse WEBPhoneUpdate: the phone type and the number, nothing else
//   phone-get KEY                             WEBPhoneGet
//   phones CUSTOMER NAME=VALUE...             the three in a row: phone-insert's members, update_pht_key and
//                                             update_number for the update
//   bad-token TOKEN                           WEBPhoneGet with a token the emulator never issued
//   query-definition OBJECT                   GetQueryDefinition: the typed Object, down to each table's columns
//   query OBJECT COLUMNS WHERE ORDER          GetQuery: the XmlNode's records
//   individuals FIRST LAST EMAIL NEW_EMAIL SECOND_EMAIL
//                                             WEBIndividualInsert (the names and the e-mail), a sparse
//                                             WEBIndividualUpdate (the designation and the e-mail's address on new
//                                             proxy objects), WEBIndividualGet, WEBEmailInsert of a second, primary
//                                             e-mail, WEBEmailGetEmailsByCustomer
//   extender KEY COLUMN VALUE                 a tenant's extender column of the Individual section: whether the
//                                             proxy has it, a WEBIndividualUpdate setting it, WEBIndividualGet's
//                                             value of it (reached by name: a proxy from another tenant's WSDL, or
//                                             the default one, has no such member, and this client compiles as well)
//
// It prints one JSON object: what the proxy handed back, as the client sees it. A SoapException the flow does not
// expect is printed too (fault) and the exit status is 3.

using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Web.Services.Protocols;
using System.Xml;
using XWeb;

static class XWebClient
{
    const string Xweb = "http://www.avectra.com/2005/";

    static int Main(string[] args)
    {
        var output = new SortedDictionary<string, object>(StringComparer.Ordinal);
        if (args.Length < 4) {
            Console.Error.WriteLine("usage: XWebClient.exe URL USER PASSWORD FLOW ARGUMENTS...");
            return 2;
        }
        var client = new netForumXML();
        client.Url = args[0];
        client.Timeout = 30000;
        string flow = args[3];
        var rest = new string[args.Length - 4];
        Array.Copy(args, 4, rest, 0, rest.Length);
        int status = 0;
        try {
            if (flow != "bad-token") {
                output["authenticate_result"] = client.Authenticate(args[1], args[2]);
                output["token"] = client.AuthorizationTokenValue == null ? null : client.AuthorizationTokenValue.Token;
            }
            switch (flow) {
            case "authenticate":
                break;
            case "insert-facade-object":
                InsertFacadeObject(client, rest[0], output);
                break;
            case "set-preferences":
                SetPreferences(client, rest, output);
                break;
            case "phones":
                Phones(client, rest, output);
                break;
            case "phone-insert":
                output["inserted"] = PhoneView(PhoneInsert(client, rest[0], Fields(rest, 1)));
                break;
            case "phone-update":
                output["updated"] = PhoneUpdate(client, rest[0], rest[1], rest[2]);
                break;
            case "phone-get":
                output["got"] = PhoneView(client.WEBPhoneGet(new Guid(rest[0])));
                break;
            case "bad-token":
                BadToken(client, rest[0], output);
                break;
            case "query-definition":
                output["definition"] = Definition(client.GetQueryDefinition(rest[0]));
                break;
            case "query":
                Query(client, rest[0], rest[1], rest[2], rest[3], output);
                break;
            case "individuals":
                Individuals(client, rest, output);
                break;
            case "extender":
                Extender(client, rest, output);
                break;
            case "not-emulated":
                NotEmulated(client, output);
                break;
            case "web-sign-on":
                WebSignOn(client, rest[0], rest[1], output);
                break;
            default:
                Console.Error.WriteLine("unknown flow " + flow);
                return 2;
            }
        } catch (SoapException error) {
            output["fault"] = Fault(error);
            status = 3;
        }
        Console.WriteLine(Json(output));
        return status;
    }

    static void InsertFacadeObject(netForumXML client, string fixture, IDictionary<string, object> output)
    {
        var sample = new XmlDocument();
        sample.Load(fixture);
        var names = Namespaces(sample);
        var oNode = (XmlElement) sample.SelectSingleNode("//x:oNode", names);
        var objectName = sample.SelectSingleNode("//x:szObjectName", names).InnerText;
        XmlElement objects = null;
        foreach (XmlNode child in oNode.ChildNodes)
            if (child is XmlElement) { objects = (XmlElement) child; break; }

        XmlNode result = client.InsertFacadeObject(objectName, objects);
        output["result_name"] = result.LocalName;
        output["result_namespace"] = result.NamespaceURI;
        XmlElement list = ObjectList(result);
        output["objects_name"] = list == null ? null : list.LocalName;
        output["record_return"] = list == null ? null : list.GetAttribute("recordReturn");
        output["cma_keys"] = Texts(result.SelectNodes(".//x:cma_key", Namespaces(result.OwnerDocument)));
        output["result_xml"] = result.OuterXml;
        output["token_after"] = client.AuthorizationTokenValue.Token;
    }

    static void SetPreferences(netForumXML client, string[] arguments, IDictionary<string, object> output)
    {
        string customer = arguments[0];
        var settings = new List<MailingListSetting>();
        for (int i = 1; i < arguments.Length; i++) {
            var setting = new MailingListSetting();
            foreach (var pair in arguments[i].Split(',')) {
                var parts = pair.Split(new[] { '=' }, 2);
                string value = parts[1];
                switch (parts[0]) {
                case "mailing_list_key": setting.mailing_list_key = value; break;
                case "mailing_list_name": setting.mailing_list_name = value; break;
                case "mailing_list_category": setting.mailing_list_category = value; break;
                case "status":
                    setting.status = (MailingPerferenceStatus) Enum.Parse(typeof(MailingPerferenceStatus), value);
                    break;
                case "email_key": setting.email_key = value; break;
                case "address_key": setting.address_key = value; break;
                case "phone_key": setting.phone_key = value; break;
                case "fax_key": setting.fax_key = value; break;
                default: throw new ArgumentException("unknown MailingListSetting member " + parts[0]);
                }
            }
            settings.Add(setting);
        }
        client.SetCustomerCommunicationPreferences(customer, settings.ToArray());
        output["set"] = true;

        var read = new List<object>();
        foreach (var setting in client.GetAllCustomerCommunicationPreferences(customer))
            read.Add(Setting(setting));
        output["all"] = read;
        if (settings.Count > 0)
            output["one"] = Setting(client.GetCustomerCommunicationPreference(customer, settings[0].mailing_list_key));
    }

    static void Phones(netForumXML client, string[] arguments, IDictionary<string, object> output)
    {
        var given = Fields(arguments, 1);
        CustomerPhoneType inserted = PhoneInsert(client, arguments[0], given);
        output["inserted"] = PhoneView(inserted);
        output["updated"] = PhoneUpdate(client, inserted.CurrentKey, given["update_pht_key"], given["update_number"]);
        output["got"] = PhoneView(client.WEBPhoneGet(new Guid(inserted.CurrentKey)));
    }

    static CustomerPhoneType PhoneInsert(netForumXML client, string customer, IDictionary<string, string> given)
    {
        var xref = new IndividualPhone_Phone_XRef_DataObjectType();
        xref.cph_cst_key = customer;
        var phone = new IndividualPhone_Phone_DataObjectType();
        phone.phn_number = given["number"];
        if (given.ContainsKey("pht_key")) xref.cph_pht_key = given["pht_key"];
        if (given.ContainsKey("extension")) xref.cph_extension = given["extension"];
        if (given.ContainsKey("unlisted_flag")) {
            xref.cph_unlisted_flag = byte.Parse(given["unlisted_flag"], CultureInfo.InvariantCulture);
            xref.cph_unlisted_flagSpecified = true;
        }
        if (given.ContainsKey("number_display")) phone.phn_number_display = given["number_display"];
        if (given.ContainsKey("cty_key")) phone.phn_cty_key = given["cty_key"];

        var insert = new CustomerPhoneType();
        insert.Phone_XRef = xref;
        insert.Phone = phone;
        return client.WEBPhoneInsert(insert);
    }

    // The sparse update: a client that changes a phone's type and number builds new objects and sets only those.
    // Every other member is null, which the proxy sends as xsi:nil="true" (the WSDL makes all of them nillable);
    // the flags (byte?, with a ...Specified switch) are left out.
    static bool PhoneUpdate(netForumXML client, string key, string phoneType, string number)
    {
        var update = new CustomerPhoneType();
        update.CurrentKey = key;
        update.Phone_XRef = new IndividualPhone_Phone_XRef_DataObjectType();
        update.Phone_XRef.cph_pht_key = phoneType;
        update.Phone = new IndividualPhone_Phone_DataObjectType();
        update.Phone.phn_number = number;
        return client.WEBPhoneUpdate(update);
    }

    static void Extender(netForumXML client, string[] arguments, IDictionary<string, object> output)
    {
        var member = typeof(Individual_Individual_DataObjectType).GetProperty(arguments[1]);
        output["member"] = member != null;
        if (member == null)
            return;
        var update = new IndividualType();
        update.CurrentKey = arguments[0];
        update.Individual = new Individual_Individual_DataObjectType();
        member.SetValue(update.Individual, arguments[2], null);
        output["updated"] = client.WEBIndividualUpdate(update);
        output["got"] = member.GetValue(client.WEBIndividualGet(new Guid(arguments[0])).Individual, null);
    }

    static void Individuals(netForumXML client, string[] arguments, IDictionary<string, object> output)
    {
        var insert = new IndividualType();
        insert.Individual = new Individual_Individual_DataObjectType();
        insert.Individual.ind_first_name = arguments[0];
        insert.Individual.ind_last_name = arguments[1];
        insert.Email = new Individual_Email_DataObjectType();
        insert.Email.eml_address = arguments[2];
        IndividualType inserted = client.WEBIndividualInsert(insert);
        output["inserted"] = IndividualView(inserted);

        // The sparse update: new objects with only what changes set; every other member null (sent xsi:nil).
        var update = new IndividualType();
        update.CurrentKey = inserted.CurrentKey;
        update.Individual = new Individual_Individual_DataObjectType();
        update.Individual.ind_designation = "RADM";
        update.Email = new Individual_Email_DataObjectType();
        update.Email.eml_address = arguments[3];
        output["updated"] = client.WEBIndividualUpdate(update);
        output["got"] = IndividualView(client.WEBIndividualGet(new Guid(inserted.CurrentKey)));

        var email = new CustomerEmailType();
        email.Email = new IndividualEmail_Email_DataObjectType();
        email.Email.eml_cst_key = inserted.CurrentKey;
        email.Email.eml_address = arguments[4];
        email.Email.eml_primary = 1;
        email.Email.eml_primarySpecified = true;
        CustomerEmailType added = client.WEBEmailInsert(email);
        var view = new SortedDictionary<string, object>(StringComparer.Ordinal);
        view["CurrentKey"] = added.CurrentKey;
        view["eml_key"] = added.Email.eml_key;
        view["eml_primary"] = Flag(added.Email.eml_primarySpecified, added.Email.eml_primary);
        view["cst_eml_key"] = added.Customer.cst_eml_key;
        view["cst_eml_address_dn"] = added.Customer.cst_eml_address_dn;
        output["email_inserted"] = view;

        XmlNode listed = client.WEBEmailGetEmailsByCustomer(new Guid(inserted.CurrentKey));
        XmlElement results = listed.LocalName == "Results" ? (XmlElement) listed : FirstElement(listed);
        output["listed_record_return"] = results.GetAttribute("recordReturn");
        output["listed"] = Texts(results.SelectNodes("x:Result/x:eml_address", Namespaces(results.OwnerDocument)));
    }

    // An SSO integration's calls: WEBWebUserLogin, WebValidate of its ind_token, WEBWebUserGet of the key; then
    // WebLogin, WebLogout and WebValidate of the token logged out.
    static void WebSignOn(netForumXML client, string login, string password, IDictionary<string, object> output)
    {
        WebUserType user = client.WEBWebUserLogin(login, password);
        output["login_key"] = user.CurrentKey;
        output["ind_token"] = user.Individual.ind_token;
        string key = client.WebValidate(user.Individual.ind_token);
        output["validated"] = key;
        WebUserType got = client.WEBWebUserGet(key);
        output["got_name"] = got.Individual.ind_first_name + " " + got.Individual.ind_last_name;
        output["got_email"] = got.Email.eml_address;
        output["got_recno"] = got.Customer.cst_recno;
        string token = client.WebLogin(login, password, null);
        output["web_login_validated"] = client.WebValidate(token);
        client.WebLogout(token);
        output["after_logout"] = client.WebValidate(token);
    }

    static IDictionary<string, string> Fields(string[] arguments, int start)
    {
        var given = new Dictionary<string, string>();
        for (int i = start; i < arguments.Length; i++) {
            var parts = arguments[i].Split(new[] { '=' }, 2);
            given[parts[0]] = parts[1];
        }
        return given;
    }

    // GetQuery's XmlNode: the <XxxObjects> list, each <XxxObject> a record of its columns' texts.
    static void Query(netForumXML client, string objectName, string columns, string where, string order,
                      IDictionary<string, object> output)
    {
        XmlElement list = ObjectList(client.GetQuery(objectName, columns, where, order));
        output["objects_name"] = list.LocalName;
        output["record_return"] = list.GetAttribute("recordReturn");
        var read = new List<object>();
        foreach (XmlNode record in list.ChildNodes) {
            if (!(record is XmlElement)) continue;
            var view = new SortedDictionary<string, object>(StringComparer.Ordinal);
            foreach (XmlNode column in record.ChildNodes)
                if (column is XmlElement) view[column.LocalName] = column.InnerText;
            read.Add(view);
        }
        output["records"] = read;
    }

    // GetQueryDefinition's typed result, as the proxy deserialized it (XWeb.Object: `Object` alone would be
    // ambiguous with System.Object).
    static IDictionary<string, object> Definition(XWeb.Object definition)
    {
        var view = new SortedDictionary<string, object>(StringComparer.Ordinal);
        view["obj_key"] = definition.obj_key;
        view["obj_name"] = definition.obj_name;
        view["obj_description"] = definition.obj_description;
        view["lst_mdt_name"] = definition.ListTable.lst_mdt_name;
        view["lst_select_distinct"] = definition.ListTable.lst_select_distinct;
        view["mdt_description"] = definition.ListTable.mdt_description;
        var tables = new List<object>();
        foreach (ListFromTable table in definition.ListTable.ListFromTables) {
            var tableView = new SortedDictionary<string, object>(StringComparer.Ordinal);
            tableView["lsf_from_table"] = table.lsf_from_table;
            tableView["lsf_from_alias"] = table.lsf_from_alias;
            tableView["lsf_from_join_type"] = table.lsf_from_join_type;
            tableView["lsf_from_join"] = table.lsf_from_join;
            var columns = new List<object>();
            foreach (Column column in table.Columns) {
                var columnView = new SortedDictionary<string, object>(StringComparer.Ordinal);
                columnView["mdc_name"] = column.mdc_name;
                columnView["mdc_description"] = column.mdc_description;
                columnView["mdc_data_type"] = column.mdc_data_type;
                columnView["mdc_ext"] = column.mdc_ext;
                columnView["mdc_nullable"] = column.mdc_nullable;
                columnView["mdc_table_name"] = column.mdc_table_name;
                columnView["mdc_width_max"] = column.mdc_width_max;
                columns.Add(columnView);
            }
            tableView["Columns"] = columns;
            tables.Add(tableView);
        }
        view["ListFromTables"] = tables;
        return view;
    }

    static void BadToken(netForumXML client, string token, IDictionary<string, object> output)
    {
        client.AuthorizationTokenValue = new AuthorizationToken();
        client.AuthorizationTokenValue.Token = token;
        try {
            client.GetVersion();
            output["answered"] = true;
        } catch (SoapException error) {
            output["soap_exception"] = Fault(error);
        }
    }

    // Operations the emulator does not emulate, called through the proxy's own methods: each answers a fault.
    static void NotEmulated(netForumXML client, IDictionary<string, object> output)
    {
        var calls = new Dictionary<string, Action> {
            {"GetFacadeXMLSchema", () => client.GetFacadeXMLSchema("Individual")},
            {"WEBCentralizedShoppingCartExhibitorGetBoothList",
             () => client.WEBCentralizedShoppingCartExhibitorGetBoothList(null, null, null, null)},
            {"InsertCustomerAction", () => client.InsertCustomerAction(
                Guid.NewGuid(), "Called", Guid.NewGuid(), "test", DateTime.UtcNow, new Guid[0])},
        };
        var faults = new SortedDictionary<string, object>(StringComparer.Ordinal);
        foreach (var call in calls) {
            try {
                call.Value();
                faults[call.Key] = "answered";
            } catch (SoapException error) {
                faults[call.Key] = Fault(error);
            }
        }
        output["faults"] = faults;
    }

    // ------------------------------------------------------------------------------------------------- helpers

    static IDictionary<string, object> Fault(SoapException error)
    {
        var fault = new SortedDictionary<string, object>(StringComparer.Ordinal);
        fault["type"] = error.GetType().FullName;
        fault["code"] = error.Code == null ? null : error.Code.Name;
        fault["code_namespace"] = error.Code == null ? null : error.Code.Namespace;
        fault["message"] = error.Message;
        fault["actor"] = error.Actor;
        XmlNode detail = error.Detail;
        fault["detail_xml"] = detail == null ? null : detail.OuterXml;
        fault["detail_name"] = detail == null ? null : detail.Name;
        XmlElement kind = detail == null ? null : FirstElement(detail);
        fault["kind"] = kind == null ? null : kind.LocalName;
        fault["kind_namespace"] = kind == null ? null : kind.NamespaceURI;
        if (kind != null) {
            var names = Namespaces(kind.OwnerDocument);
            fault["xweb_message"] = Text(kind.SelectSingleNode("x:XWebException/x:Message", names));
            fault["xweb_number"] = Text(kind.SelectSingleNode("x:XWebException/x:Number", names));
            fault["xweb_source"] = Text(kind.SelectSingleNode("x:XWebException/x:Source", names));
            fault["xweb_error_type"] = Text(kind.SelectSingleNode("x:XWebException/x:ErrorType", names));
        }
        return fault;
    }

    static IDictionary<string, object> Setting(MailingListSetting setting)
    {
        var view = new SortedDictionary<string, object>(StringComparer.Ordinal);
        view["mailing_list_key"] = setting.mailing_list_key;
        view["mailing_list_name"] = setting.mailing_list_name;
        view["mailing_list_category"] = setting.mailing_list_category;
        view["status"] = setting.status.ToString();
        view["email_key"] = setting.email_key;
        view["address_key"] = setting.address_key;
        view["phone_key"] = setting.phone_key;
        view["fax_key"] = setting.fax_key;
        return view;
    }

    static IDictionary<string, object> PhoneView(CustomerPhoneType phone)
    {
        var view = new SortedDictionary<string, object>(StringComparer.Ordinal);
        if (phone == null) return null;
        view["CurrentKey"] = phone.CurrentKey;
        if (phone.Phone_XRef != null) {
            var x = phone.Phone_XRef;
            view["cph_key"] = x.cph_key;
            view["cph_cst_key"] = x.cph_cst_key;
            view["cph_phn_key"] = x.cph_phn_key;
            view["cph_pht_key"] = x.cph_pht_key;
            view["cph_extension"] = x.cph_extension;
            view["cph_unlisted_flag"] = Flag(x.cph_unlisted_flagSpecified, x.cph_unlisted_flag);
            view["cph_primary"] = Flag(x.cph_primarySpecified, x.cph_primary);
            view["cph_add_user"] = x.cph_add_user;
            view["cph_change_user"] = x.cph_change_user;
        }
        if (phone.Phone != null) {
            var p = phone.Phone;
            view["phn_key"] = p.phn_key;
            view["phn_cst_key_owner"] = p.phn_cst_key_owner;
            view["phn_number"] = p.phn_number;
            view["phn_number_display"] = p.phn_number_display;
            view["phn_cty_key"] = p.phn_cty_key;
            view["phn_add_user"] = p.phn_add_user;
            view["phn_change_user"] = p.phn_change_user;
        }
        view["cst_key"] = phone.Customer == null ? null : phone.Customer.cst_key;
        view["cty_key"] = phone.Country == null ? null : phone.Country.cty_key;
        return view;
    }

    static IDictionary<string, object> IndividualView(IndividualType individual)
    {
        var view = new SortedDictionary<string, object>(StringComparer.Ordinal);
        view["CurrentKey"] = individual.CurrentKey;
        var i = individual.Individual;
        view["ind_cst_key"] = i.ind_cst_key;
        view["ind_first_name"] = i.ind_first_name;
        view["ind_last_name"] = i.ind_last_name;
        view["ind_designation"] = i.ind_designation;
        view["ind_change_user"] = i.ind_change_user;
        var c = individual.Customer;
        view["cst_key"] = c.cst_key;
        view["cst_name_cp"] = c.cst_name_cp;
        view["cst_eml_key"] = c.cst_eml_key;
        view["cst_eml_address_dn"] = c.cst_eml_address_dn;
        var e = individual.Email;
        view["eml_key"] = e == null ? null : e.eml_key;
        view["eml_address"] = e == null ? null : e.eml_address;
        view["eml_type"] = e == null ? null : e.eml_type;
        // A section the emulator does not keep: an empty object, not null.
        view["business_address_read"] = individual.Business_Address != null;
        return view;
    }

    static string Flag(bool specified, byte? value)
    {
        return specified && value.HasValue ? value.Value.ToString(CultureInfo.InvariantCulture) : null;
    }

    static XmlNamespaceManager Namespaces(XmlDocument document)
    {
        var names = new XmlNamespaceManager(document == null ? new NameTable() : document.NameTable);
        names.AddNamespace("x", Xweb);
        return names;
    }

    // The XmlNode the proxy hands back for a facade result: Mono's serializer gives the element inside <XxxResult>
    // (the <XxxObjects> list); a client that wants the list either way looks one level down when given the wrapper.
    static XmlElement ObjectList(XmlNode result)
    {
        return result.LocalName.EndsWith("Objects") ? (XmlElement) result : FirstElement(result);
    }

    static XmlElement FirstElement(XmlNode node)
    {
        foreach (XmlNode child in node.ChildNodes)
            if (child is XmlElement) return (XmlElement) child;
        return null;
    }

    static string Text(XmlNode node)
    {
        return node == null ? null : node.InnerText;
    }

    static List<object> Texts(XmlNodeList nodes)
    {
        var texts = new List<object>();
        foreach (XmlNode node in nodes) texts.Add(node.InnerText);
        return texts;
    }

    // ---------------------------------------------------------------------------------------------- JSON out

    static string Json(object value)
    {
        var text = new StringBuilder();
        Write(text, value);
        return text.ToString();
    }

    static void Write(StringBuilder text, object value)
    {
        if (value == null) {
            text.Append("null");
        } else if (value is bool) {
            text.Append((bool) value ? "true" : "false");
        } else if (value is string) {
            text.Append('"');
            foreach (char c in (string) value) {
                switch (c) {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                default:
                    if (c < ' ') text.Append("\\u").Append(((int) c).ToString("x4"));
                    else text.Append(c);
                    break;
                }
            }
            text.Append('"');
        } else if (value is IDictionary<string, object>) {
            text.Append('{');
            bool first = true;
            foreach (var pair in (IDictionary<string, object>) value) {
                if (!first) text.Append(',');
                first = false;
                Write(text, pair.Key);
                text.Append(':');
                Write(text, pair.Value);
            }
            text.Append('}');
        } else if (value is IEnumerable) {
            text.Append('[');
            bool first = true;
            foreach (var item in (IEnumerable) value) {
                if (!first) text.Append(',');
                first = false;
                Write(text, item);
            }
            text.Append(']');
        } else {
            Write(text, Convert.ToString(value, CultureInfo.InvariantCulture));
        }
    }
}
